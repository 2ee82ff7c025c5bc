"""Packages: a series of short sessions for a life stage, bought once and booked one by one.

A purchase keeps its own counter (`sessions_used`, never above `sessions_total`: a CHECK
constraint) and every claim is a conditional UPDATE of it, so two bookings racing for the last
session of a purchase cannot both get it."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.i18n import in_active_language
from counselors.models import CounselorProfile, ToolkitItem

PACKAGE_SESSIONS_MIN = 2
PACKAGE_SESSIONS_MAX = 12
PACKAGE_WITHIN_DAYS_MIN = 7
PACKAGE_WITHIN_DAYS_MAX = 180


class LifeStage(models.TextChoices):
    GRADUATION = "graduation", _("After graduation")
    NEW_PARENT = "new_parent", _("First months as a parent")
    RETIREMENT = "retirement", _("Retirement")
    NEW_JOB = "new_job", _("A new job")
    BEREAVEMENT = "bereavement", _("After a loss")
    EXAMS = "exams", _("Exam season")
    OTHER = "other", _("Another change in life")


class Package(models.Model):
    """N sessions of one length for a life stage, to be held within `within_days` of buying
    it, at one price. A counselor's package is booked with them; a platform package
    (`counselor` null) with any listed counselor. Never deleted once published (purchases
    refer to it): withdrawn instead."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    counselor = models.ForeignKey(
        CounselorProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="packages",
        help_text=_("Empty for a platform package, bookable with any counselor."),
    )
    life_stage = models.CharField(max_length=16, choices=LifeStage.choices)
    title_en = models.CharField(max_length=120, blank=True)
    title_zh = models.CharField(max_length=120, blank=True)
    description_en = models.TextField(max_length=2000, blank=True)
    description_zh = models.TextField(max_length=2000, blank=True)
    sessions = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(PACKAGE_SESSIONS_MIN),
            MaxValueValidator(PACKAGE_SESSIONS_MAX),
        ]
    )
    duration_minutes = models.PositiveSmallIntegerField()
    within_days = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(PACKAGE_WITHIN_DAYS_MIN),
            MaxValueValidator(PACKAGE_WITHIN_DAYS_MAX),
        ]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    items = models.ManyToManyField(ToolkitItem, blank=True, related_name="packages")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["life_stage", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__in=[15, 30]), name="package_duration_15_30"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    sessions__gte=PACKAGE_SESSIONS_MIN, sessions__lte=PACKAGE_SESSIONS_MAX
                ),
                name="package_sessions_range",
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(
                condition=~models.Q(title_en="", title_zh=""), name="package_has_a_title"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["published", "withdrawn"]),
                name="package_status_valid",
            ),
        ]
        indexes = [
            # `packages/?counselor=` and the list page: published packages, by counselor.
            models.Index(fields=["status", "counselor"], name="package_status_counselor_idx"),
        ]

    def __str__(self):
        return self.title_en or self.title_zh

    @property
    def title(self) -> str:
        return in_active_language(self.title_en, self.title_zh)

    @property
    def description(self) -> str:
        return in_active_language(self.description_en, self.description_zh)


class PackagePurchase(models.Model):
    """One client's purchase of a package: its sessions, how many are used (booked and not
    given back), and until when they can be held. The package's terms are copied in, so a
    later change of the package never changes what was bought."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases")
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="package_purchases"
    )
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sessions_total = models.PositiveSmallIntegerField()
    sessions_used = models.PositiveSmallIntegerField(default=0)
    duration_minutes = models.PositiveSmallIntegerField()
    price_paid = models.DecimalField(max_digits=8, decimal_places=2)
    purchased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-purchased_at", "-pk"]
        constraints = [
            # The counter of claims: never more sessions used than bought, never below zero.
            models.CheckConstraint(
                condition=models.Q(sessions_used__lte=models.F("sessions_total")),
                name="package_purchase_used_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("purchased_at")),
                name="package_purchase_expires_after_purchase",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "expired"]),
                name="package_purchase_status_valid",
            ),
        ]
        indexes = [
            # "my packages" and the booking form's choice: a client's active purchases.
            models.Index(fields=["client", "status"], name="package_purchase_client_idx"),
            # The expiry sweep: active purchases past their end.
            models.Index(fields=["status", "expires_at"], name="package_purchase_expiry_idx"),
        ]

    def __str__(self):
        return f"purchase {self.pk} of package {self.package_id}"

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used

    @property
    def session_share(self):
        """What one session of the purchase is worth (the ledger pays the counselor this)."""
        return (self.price_paid / self.sessions_total).quantize(self.price_paid)
