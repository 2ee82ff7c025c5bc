import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not an IANA time zone such as Asia/Shanghai."),
            params={"value": value},
        )


class User(AbstractUser):
    """Anyone who signs in. Clients are pseudonymous: a username and password suffice."""

    class Role(models.TextChoices):
        CLIENT = "client", _("Client")
        COUNSELOR = "counselor", _("Counselor")
        STAFF = "staff", _("Staff")
        SUPERVISOR = "supervisor", _("On-call supervisor")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    timezone = models.CharField(
        max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ZH_HANS)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["client", "counselor", "staff", "supervisor"]),
                name="user_role_valid",
            ),
        ]

    @property
    def is_client(self) -> bool:
        return self.role == self.Role.CLIENT

    @property
    def is_counselor(self) -> bool:
        return self.role == self.Role.COUNSELOR

    @property
    def is_crisis_responder(self) -> bool:
        """Sees and answers crisis alerts: on-call supervisors and staff."""
        return self.role in (self.Role.STAFF, self.Role.SUPERVISOR) or self.is_superuser

    @property
    def is_staff_member(self) -> bool:
        """Staff in the product's sense (credential verification, ethics review)."""
        return self.role == self.Role.STAFF or self.is_superuser


class ConsentRecord(models.Model):
    """A client's separate consent to the processing of their health information (PIPL art. 29):
    which version of the text (intake/consent.py) they agreed to, when, and when they withdrew it."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="consents")
    version = models.CharField(max_length=16)
    language = models.CharField(
        max_length=8, help_text=_("The language of the text that was shown")
    )
    agreed_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-agreed_at"]
        constraints = [
            # One standing agreement per user and version (agreeing twice is the same agreement).
            models.UniqueConstraint(
                fields=["user", "version"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_standing_per_version",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True)
                | models.Q(withdrawn_at__gte=models.F("agreed_at")),
                name="consent_withdrawn_after_agreed",
            ),
        ]

    def __str__(self):
        state = f"withdrawn {self.withdrawn_at:%Y-%m-%d}" if self.withdrawn_at else "standing"
        return f"Consent {self.version} by {self.user_id} ({state})"


class Intake(models.Model):
    """The short intake before a client's first booking or match request: topic, current
    distress, the PHQ-4 and PHQ-9 item 9. Given under a consent; withdrawn consent voids it."""

    class Band(models.TextChoices):
        NORMAL = "normal", _("Normal")
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    class Risk(models.TextChoices):
        HIGH = "high", _("High")
        LOW = "low", _("Low")
        NONE = "none", _("None")

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="intakes")
    consent = models.ForeignKey(ConsentRecord, on_delete=models.CASCADE, related_name="intakes")
    topic = models.CharField(max_length=120, help_text=_("A specialty slug or a few words"))
    distress = models.PositiveSmallIntegerField(
        help_text=_("0 (none) to 10 (the worst imaginable)")
    )
    # PHQ-4, in its published order, each 0 (not at all) to 3 (nearly every day):
    phq4_nervous = models.PositiveSmallIntegerField(
        help_text=_("Feeling nervous, anxious or on edge")
    )
    phq4_worry = models.PositiveSmallIntegerField(
        help_text=_("Not being able to stop or control worrying")
    )
    phq4_interest = models.PositiveSmallIntegerField(
        help_text=_("Little interest or pleasure in doing things")
    )
    phq4_down = models.PositiveSmallIntegerField(help_text=_("Feeling down, depressed or hopeless"))
    phq4_score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=16, choices=Band.choices)
    item9 = models.PositiveSmallIntegerField(
        help_text=_(
            "PHQ-9 item 9: thoughts that you would be better off dead, or of hurting yourself"
        )
    )
    risk = models.CharField(max_length=8, choices=Risk.choices)
    created_at = models.DateTimeField()

    PHQ4_FIELDS = ("phq4_nervous", "phq4_worry", "phq4_interest", "phq4_down")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(distress__gte=0, distress__lte=10), name="intake_distress_0_10"
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__gte": 0, f"{f}__lte": 3}), name=f"intake_{f}_0_3"
                )
                for f in ("phq4_nervous", "phq4_worry", "phq4_interest", "phq4_down", "item9")
            ],
            models.CheckConstraint(
                condition=models.Q(
                    phq4_score=models.F("phq4_nervous")
                    + models.F("phq4_worry")
                    + models.F("phq4_interest")
                    + models.F("phq4_down")
                ),
                name="intake_phq4_score_is_sum",
            ),
            models.CheckConstraint(
                condition=models.Q(band__in=["normal", "mild", "moderate", "severe"]),
                name="intake_band_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(risk__in=["high", "low", "none"]), name="intake_risk_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(item9__gt=0) | models.Q(risk="high"),
                name="intake_item9_means_high_risk",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="intake_user_latest_idx")]

    @property
    def phq4(self) -> list[int]:
        return [getattr(self, f) for f in self.PHQ4_FIELDS]

    def __str__(self):
        return f"Intake {self.pk} by {self.user_id} ({self.band}, risk {self.risk})"


class NotificationPreference(models.Model):
    """How a user wants to hear from Pianke. A user without a row has the defaults
    (`accounts.selectors.notification_preference_for`). Quiet hours are wall-clock times in
    the user's own zone; a window that wraps midnight (22:00–07:00) is allowed."""

    user = models.OneToOneField(
        "accounts.User",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_reminders = models.BooleanField(
        default=True, help_text=_("Session reminders by e-mail (when an address is given).")
    )
    in_page_reminders = models.BooleanField(
        default=True, help_text=_("Session reminders as a notice on Pianke's pages.")
    )
    remind_24h = models.BooleanField(default=True, help_text=_("A reminder a day before."))
    remind_1h = models.BooleanField(default=True, help_text=_("A reminder an hour before."))
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | models.Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="preference_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self):
        return f"notification preferences of {self.user_id}"


class Notice(models.Model):
    """A notice shown on Pianke's pages to a signed-in user (a reminder, a moved session, a
    preferred counselor's new time, a surge call). The text is rendered when shown, from
    `kind` and `params`, in the reader's language and zone; it never names a topic."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The page header: a user's unread notices, newest first.
            models.Index(
                fields=["user", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notice_unread_idx",
            ),
        ]

    def __str__(self):
        return f"notice {self.kind} for {self.user_id}"
