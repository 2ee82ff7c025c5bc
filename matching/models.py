from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTHS, SessionLanguage, SessionMode
from counselors.models import CounselorProfile, Specialty


class Presence(models.Model):
    """A counselor's talk-now duty. On duty means `online` and a heartbeat within
    `settings.MATCHING_PRESENCE_TTL_SECONDS`; a closed laptop drops off by itself."""

    counselor = models.OneToOneField(
        CounselorProfile, on_delete=models.CASCADE, primary_key=True, related_name="presence"
    )
    online = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Offers in a row left to time out; MATCHING_TIMEOUTS_OFF_DUTY of them take the counselor off duty.
    missed_in_a_row = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Candidates for a round: `online=True AND last_seen_at > now - ttl`.
            models.Index(
                fields=["last_seen_at"], condition=Q(online=True), name="presence_on_duty_idx"
            ),
        ]

    def __str__(self):
        return f"{self.counselor_id} {'online' if self.online else 'offline'}"


class MatchRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Looking for a counselor")
        OFFERED = "offered", _("Offered to a counselor")
        MATCHED = "matched", _("Matched")
        NO_MATCH = "no_match", _("No counselor free")
        SUGGESTED = "suggested", _("Suggestions ready")  # scheduled requests
        CANCELLED = "cancelled", _("Cancelled")

    class When(models.TextChoices):
        NOW = "now", _("Talk now")
        SCHEDULED = "scheduled", _("Scheduled")

    class Risk(models.TextChoices):
        HIGH = "high", _("High")
        LOW = "low", _("Low")
        NONE = "none", _("None")

    OPEN = (Status.PENDING, Status.OFFERED)

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="match_requests"
    )
    topic = models.SlugField()
    mode = models.CharField(max_length=8, choices=SessionMode.choices)
    language = models.CharField(max_length=8)
    duration_minutes = models.PositiveSmallIntegerField()
    when = models.CharField(max_length=10, choices=When.choices)
    earliest = models.DateTimeField(null=True, blank=True)
    latest = models.DateTimeField(null=True, blank=True)
    # The free-text note is health information: stored encrypted like session messages.
    note_ciphertext = models.BinaryField(blank=True, default=b"")
    wants_someone_new = models.BooleanField(default=False)
    risk = models.CharField(max_length=8, choices=Risk.choices, default=Risk.NONE)
    # The client's region when they asked (from their zone, as for hotlines): a surge in that
    # region puts the request ahead in the queue.
    region = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    booking = models.OneToOneField(
        "listening.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="match_request",
    )
    suggestions = models.JSONField(default=list, blank=True)
    hotlines = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    deadline_at = models.DateTimeField(
        help_text=_("A talk-now request still waiting then ends as no_match.")
    )
    matched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__in=list(SESSION_LENGTHS)), name="match_duration_15_30"
            ),
            models.CheckConstraint(
                condition=~Q(when="scheduled")
                | Q(earliest__isnull=False, latest__isnull=False, earliest__lt=models.F("latest")),
                name="match_scheduled_has_window",
            ),
            models.CheckConstraint(
                condition=~Q(status="matched") | Q(booking__isnull=False),
                name="match_matched_has_booking",
            ),
            # One open talk-now request per client: a second tab must not book two counselors.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(when="now", status__in=["pending", "offered"]),
                name="match_one_open_per_client",
            ),
        ]
        indexes = [
            # A matching round: open talk-now requests, high risk first, then oldest.
            models.Index(
                fields=["created_at"],
                condition=Q(when="now", status="pending"),
                name="match_pending_idx",
            ),
        ]

    def __str__(self):
        return f"MatchRequest {self.pk} ({self.status})"


class Offer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the counselor")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Timed out")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(MatchRequest, on_delete=models.CASCADE, related_name="offers")
    counselor = models.ForeignKey(CounselorProfile, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The database guarantees what two racing workers must never do: offer one request
            # twice at once, offer one counselor two requests at once, or offer a request again
            # to a counselor who already had it.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_request",
            ),
            models.UniqueConstraint(
                fields=["counselor"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_counselor",
            ),
            models.UniqueConstraint(
                fields=["request", "counselor"], name="offer_once_per_counselor"
            ),
        ]
        indexes = [
            # The sweep: pending offers past their expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending"),
                name="offer_pending_expiry_idx",
            ),
            # Fair exposure: offers per counselor in the last 7 days.
            models.Index(fields=["counselor", "created_at"], name="offer_counselor_recent_idx"),
        ]

    def __str__(self):
        return (
            f"Offer {self.pk} of request {self.request_id} to {self.counselor_id} ({self.status})"
        )


class Surge(models.Model):
    """A public crisis declared by staff (an earthquake, a campus tragedy): for a region and
    languages, from `starts_at` to `ends_at`, it calls up the reserve pool, puts the region's
    talk-now requests first and shows a banner with crisis lines. Ending it (or its end
    passing) restores the normal rules; every change is audited."""

    region = models.CharField(max_length=8, help_text=_("A region code such as CN or HK."))
    languages = ArrayField(models.CharField(max_length=8, choices=SessionLanguage.choices))
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    banner_en = models.CharField(max_length=300)
    banner_zh = models.CharField(max_length=300)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="surge_ends_after_start"
            ),
        ]
        indexes = [
            # Active surges (banner, queue order): not ended, ending after now.
            models.Index(
                fields=["ends_at"], condition=Q(ended_at__isnull=True), name="surge_live_idx"
            ),
        ]

    def __str__(self):
        return f"Surge {self.pk} {self.region} {self.starts_at:%Y-%m-%d}"


class SurgeCall(models.Model):
    """The outbox row of one reserve counselor's call-up for a surge: created with the surge
    in one transaction, sent (e-mail and a dashboard push) by a worker that claims it once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")

    surge = models.ForeignKey(Surge, on_delete=models.CASCADE, related_name="calls")
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="surge_calls"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["surge", "counselor"], name="surge_call_once"),
        ]
        indexes = [
            # The sender: pending calls, claimed with skip_locked.
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="surge_call_pending_idx"
            ),
        ]

    def __str__(self):
        return f"call of {self.counselor_id} for surge {self.surge_id} ({self.status})"


class SurgeEvent(models.Model):
    """The audit trail of a surge: who declared, changed or ended it, when, and what changed
    (`changes`: the declared fields, or {field: [old, new]}). Rows are only ever added."""

    class Action(models.TextChoices):
        DECLARE = "declare", _("Declared")
        UPDATE = "update", _("Changed")
        END = "end", _("Ended")

    surge = models.ForeignKey(Surge, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["surge", "created_at"], name="surge_event_idx")]

    def __str__(self):
        return f"{self.actor_id} {self.action} surge {self.surge_id} at {self.created_at:%Y-%m-%d %H:%M}"
