from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.sessions import SessionLanguage, SessionMode


class Specialty(models.Model):
    """The topic taxonomy (seeded by a data migration). `related` feeds topic fit in matching."""

    slug = models.SlugField(unique=True)
    name_en = models.CharField(max_length=80)
    name_zh = models.CharField(max_length=80)
    related = models.ManyToManyField("self", blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "specialties"

    def __str__(self):
        return self.slug

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class CounselorProfile(models.Model):
    """A counselor's public profile and booking rules. Its primary key is the user's id,
    so a counselor is addressed by one id everywhere."""

    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="counselor_profile",
    )
    display_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="counselors")
    languages = ArrayField(
        models.CharField(max_length=8, choices=SessionLanguage.choices), default=list, blank=True
    )
    modes = ArrayField(
        models.CharField(max_length=8, choices=SessionMode.choices), default=list, blank=True
    )
    price_15 = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    price_30 = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    daily_cap = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(48)]
    )
    min_notice_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("How long before a session it can still be booked."),
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(60)],
        help_text=_("Free time kept between sessions."),
    )
    reschedule_cutoff_minutes = models.PositiveSmallIntegerField(
        default=120,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("Until how long before a session it can still be moved."),
    )
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Inactive profiles are neither listed nor bookable.")
    )
    crisis_trained = models.BooleanField(
        default=False,
        help_text=_(
            "Trained in crisis intervention (checked by staff): high-risk talk-now "
            "requests are offered to these counselors first."
        ),
    )
    reserve_pool = models.BooleanField(
        default=False,
        help_text=_(
            "In the reserve pool: called up (e-mail and dashboard) when staff declare a surge "
            "that matches the counselor's languages and specialties."
        ),
    )
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(daily_cap__gte=1, daily_cap__lte=48),
                name="counselor_daily_cap_range",
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=60), name="counselor_buffer_range"
            ),
            models.CheckConstraint(
                condition=models.Q(price_15__gte=0, price_30__gte=0),
                name="counselor_prices_non_negative",
            ),
        ]
        indexes = [
            # The directory: `counselors/?language=…&mode=…` over listed profiles.
            GinIndex(fields=["languages"], name="counselor_languages_gin"),
            GinIndex(fields=["modes"], name="counselor_modes_gin"),
            models.Index(fields=["verification", "is_active"], name="counselor_listed_idx"),
        ]

    def __str__(self):
        return self.display_name or self.user.username

    @property
    def timezone(self) -> str:
        return self.user.timezone

    @property
    def is_listed(self) -> bool:
        return (
            self.verification == self.Verification.VERIFIED
            and self.is_active
            and self.user.is_active
        )

    def price_for(self, duration_minutes: int):
        """The price of a session of this length (15 or 30 minutes)."""
        return self.price_15 if duration_minutes == 15 else self.price_30


class Credential(models.Model):
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="credentials"
    )
    licence_type = models.CharField(max_length=100)
    number = models.CharField(max_length=100)
    issuing_body = models.CharField(max_length=200)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["counselor", "licence_type", "number"], name="credential_unique"
            ),
        ]

    def __str__(self):
        return f"{self.licence_type} {self.number}"


class VerificationRecord(models.Model):
    """Each staff decision on a counselor's credentials: who, when, what, why."""

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="verification_records"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved = models.BooleanField()
    note = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class AvailabilityWindow(models.Model):
    """Time a counselor offers. One-off windows are absolute UTC instants; weekly windows are
    wall-clock times in their own zone, so 20:00 Berlin stays 20:00 across DST."""

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", _("One-off")
        WEEKLY = "weekly", _("Weekly")

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="windows"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # one-off
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    # weekly
    weekday = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("0 = Monday"))
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(
        null=True, blank=True, help_text=_("00:00 means midnight at the end of the day")
    )
    timezone = models.CharField(max_length=64, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "weekday", "start_time", "start"]
        constraints = [
            models.CheckConstraint(
                name="window_shape",
                condition=(
                    models.Q(
                        kind="one_off",
                        start__isnull=False,
                        end__isnull=False,
                        end__gt=models.F("start"),
                        weekday__isnull=True,
                    )
                    | models.Q(
                        kind="weekly",
                        start__isnull=True,
                        weekday__gte=0,
                        weekday__lte=6,
                        start_time__isnull=False,
                        end_time__isnull=False,
                        valid_from__isnull=False,
                    )
                ),
            ),
        ]
        indexes = [
            # Slot search: a counselor's weekly windows still valid, and one-offs overlapping a range.
            models.Index(fields=["counselor", "kind", "end"], name="window_counselor_kind_idx"),
        ]

    def __str__(self):
        if self.kind == self.Kind.WEEKLY:
            return f"weekly {self.weekday} {self.start_time}-{self.end_time} {self.timezone}"
        return f"{self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"


class TimeOff(models.Model):
    """Days a counselor is away: whole local dates in the counselor's zone, both inclusive.
    Time off hides slots and keeps the windows; sessions already booked inside it stay
    booked until the counselor keeps or cancels each one (never silently)."""

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="time_off"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="time_off_end_not_before_start",
            ),
        ]
        indexes = [
            # Slot search: a counselor's time off that has not ended before a range.
            models.Index(fields=["counselor", "end_date"], name="time_off_counselor_end_idx"),
        ]

    def __str__(self):
        return f"{self.counselor_id} away {self.start_date}–{self.end_date}"


class PreferredCounselor(models.Model):
    """A client's mark on a counselor they met ("my counselors"): listed first, weighed by
    matching, and, if the client opted in, their new windows notify the client."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferred_counselors"
    )
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="preferred_by"
    )
    notify_new_windows = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "counselor"], name="preferred_counselor_unique"
            ),
        ]
        indexes = [
            # A new window: the clients who asked to hear of this counselor's new times.
            models.Index(
                fields=["counselor"],
                condition=models.Q(notify_new_windows=True),
                name="preferred_notify_idx",
            ),
        ]

    def __str__(self):
        return f"{self.client_id} prefers {self.counselor_id}"


class HistoryShare(models.Model):
    """A client's consent that one counselor sees their own earlier sessions with this client
    (dates, topics, that counselor's private notes). Never sessions with anyone else. A
    withdrawal ends it at once; agreeing again makes a new row, so the record stays."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="history_shares"
    )
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="history_shares"
    )
    granted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            # One standing consent per client and counselor (checked on every history read).
            models.UniqueConstraint(
                fields=["client", "counselor"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="history_share_one_standing",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True)
                | models.Q(withdrawn_at__gte=models.F("granted_at")),
                name="history_share_withdrawn_after_granted",
            ),
        ]

    def __str__(self):
        return f"{self.client_id} shares history with {self.counselor_id}"
