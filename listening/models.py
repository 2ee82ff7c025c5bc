from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTHS, SessionMode
from counselors.models import CounselorProfile, Offering, ToolkitItem


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Booking(models.Model):
    """One 15 or 30 minute session between a client and a counselor.

    The database guarantees that neither person is ever booked twice for overlapping
    time: two exclusion constraints over the half-open range [start, end) of every
    booking that still holds its time (anything but cancelled)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")

    # Statuses whose time is taken. A no-show still consumed the counselor's time.
    HOLDS_TIME = [Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW]

    class Party(models.TextChoices):
        CLIENT = "client", _("Client")
        COUNSELOR = "counselor", _("Counselor")
        BOTH = "both", _("Both")

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.PROTECT, related_name="bookings"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_bookings"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    mode = models.CharField(max_length=8, choices=SessionMode.choices)
    topic = models.CharField(max_length=120)
    note = models.TextField(max_length=1000, blank=True)
    price = models.DecimalField(
        max_digits=8, decimal_places=2, default=0, help_text=_("The counselor's price when booked.")
    )
    # The service booked, if one was named: its price and duration were taken when booked.
    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancel_notified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    no_show_party = models.CharField(max_length=16, choices=Party.choices, blank=True)
    # Set by an ethics review: keeps session content past the retention period.
    ethics_hold = models.BooleanField(default=False)
    # The live session: the last message number used (allocated under the booking row lock),
    # who joined when, and the clock's events, each claimed once by a conditional update.
    message_seq = models.PositiveIntegerField(default=0)
    client_joined_at = models.DateTimeField(null=True, blank=True)
    counselor_joined_at = models.DateTimeField(null=True, blank=True)
    warning_sent_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    no_show_checked_at = models.DateTimeField(null=True, blank=True)
    content_purged_at = models.DateTimeField(null=True, blank=True)
    # The calendar export's SEQUENCE: raised on every reschedule, so calendars that imported
    # the session (same UID) take the new time.
    ics_sequence = models.PositiveIntegerField(default=0)
    # The organisation allowance that pays for the session, if one does (organisations
    # claims it in booking_create's transaction); else why it did not, for the client's note
    # (an organisations.models.Refusal, empty when the client is no member).
    allowance_claim = models.OneToOneField(
        "organisations.AllowanceClaim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booking",
    )
    allowance_refusal = models.CharField(max_length=16, blank=True)
    # The package purchase the session is one of, if booked against one (packages claims a
    # session of it in booking_create's transaction; the ledger pays from its credit).
    package_purchase = models.ForeignKey(
        "packages.PackagePurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
    )

    class Meta:
        ordering = ["start"]
        constraints = [
            ExclusionConstraint(
                name="booking_counselor_no_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("counselor", RangeOperators.EQUAL),
                ],
                condition=~models.Q(status="cancelled"),
            ),
            ExclusionConstraint(
                name="booking_client_no_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("client", RangeOperators.EQUAL),
                ],
                condition=~models.Q(status="cancelled"),
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__in=list(SESSION_LENGTHS)),
                name="booking_duration_15_30",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["confirmed", "cancelled", "completed", "no_show"]),
                name="booking_status_valid",
            ),
        ]
        indexes = [
            # Slot search and daily cap: a counselor's bookings in a time range.
            models.Index(fields=["counselor", "start"], name="booking_counselor_start_idx"),
            # "My bookings" for a client, newest first.
            models.Index(fields=["client", "start"], name="booking_client_start_idx"),
            # The beat sweep: confirmed bookings whose end has passed.
            models.Index(fields=["status", "end"], name="booking_status_end_idx"),
        ]

    def __str__(self):
        return f"Booking {self.pk} {self.start:%Y-%m-%d %H:%M} ({self.status})"

    def is_participant(self, user) -> bool:
        return user.id in (self.client_id, self.counselor_id)

    def role_of(self, user) -> str:
        return self.Party.CLIENT if user.id == self.client_id else self.Party.COUNSELOR


def voice_note_path(instance: "SessionMessage", filename: str) -> str:
    # No user-supplied name reaches the storage: the path says nothing about the content.
    return f"voice-notes/{instance.booking_id}/{instance.uid}.bin"


class SessionMessage(models.Model):
    """A chat line or voice note in a booking, live or async. Text and audio are stored
    encrypted (see core.encryption); `seq` orders a booking's messages for replay."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        VOICE = "voice", _("Voice note")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    uid = models.UUIDField(
        help_text=_("Made by the sender's device; a resend with the same id is not stored twice.")
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    ciphertext = models.BinaryField(blank=True, default=b"")
    audio = models.FileField(upload_to=voice_note_path, blank=True)
    audio_content_type = models.CharField(max_length=32, blank=True)
    audio_seconds = models.FloatField(null=True, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["booking", "seq"]
        constraints = [
            # Replay (`after_seq`) reads a booking's messages in seq order through this index.
            models.UniqueConstraint(fields=["booking", "seq"], name="message_booking_seq_unique"),
            models.UniqueConstraint(fields=["booking", "uid"], name="message_booking_uid_unique"),
        ]

    def __str__(self):
        return f"message {self.seq} of booking {self.booking_id}"


class Feedback(models.Model):
    """The client's word after a session: distress before and after (0–10), a rating and a review."""

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="feedback")
    pre_distress = models.PositiveSmallIntegerField()
    post_distress = models.PositiveSmallIntegerField()
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pre_distress__lte=10, post_distress__lte=10),
                name="feedback_distress_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_5"
            ),
        ]

    def __str__(self):
        return f"feedback on booking {self.booking_id}"


class SessionNote(models.Model):
    """The counselor's private notes on one of their sessions: one document per booking,
    autosaved from the room. Encrypted at rest like the messages (core.encryption), never
    shown to the client, and purged with the session's content (session_content_purge).
    `revision` counts saves, so a save from a stale window is refused instead of overwriting."""

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="counselor_note")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ciphertext = models.BinaryField(blank=True, default=b"")
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"counselor's note on booking {self.booking_id}"


class Reminder(models.Model):
    """The outbox row of one reminder: one participant, one booking, one kind (24 h or 1 h
    before), for one version of the booking's time (`sequence` = the booking's
    `ics_sequence` when it was scheduled). A worker claims a due row once, so a restart
    neither loses nor repeats it; cancelling withdraws pending rows, rescheduling withdraws
    them and schedules new ones under the new sequence."""

    class Kind(models.TextChoices):
        DAY_BEFORE = "24h", _("A day before")
        HOUR_BEFORE = "1h", _("An hour before")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SKIPPED = "skipped", _("Skipped (preferences or too late)")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    sequence = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    channels = models.JSONField(
        default=list, blank=True, help_text=_("Where it went: e-mail, in-page.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "recipient", "kind", "sequence"], name="reminder_once"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["pending", "sending", "sent", "withdrawn", "skipped"]
                ),
                name="reminder_status_valid",
            ),
        ]
        indexes = [
            # The beat: due reminders, claimed with skip_locked.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="reminder_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} reminder of booking {self.booking_id} for {self.recipient_id}"


class CalendarFeed(models.Model):
    """A private calendar subscription (`/calendar/<token>.ics`) of a user's sessions, for
    Google, Apple or Outlook. Only a hash of the secret token is stored; revoking ends the
    URL at once (404), and a user has at most one live feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="feed_one_live"
            ),
        ]

    def __str__(self):
        return f"calendar feed of {self.user_id}"


class ToolkitAssignment(models.Model):
    """A toolkit item a counselor gave the client of one of their sessions, from the room
    ("try this before next time"). The offering's own items need no row: they come with it."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(ToolkitItem, on_delete=models.CASCADE, related_name="assignments")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "item"], name="assignment_once"),
        ]

    def __str__(self):
        return f"{self.item_id} assigned in booking {self.booking_id}"


class ToolkitEntry(models.Model):
    """What a client wrote into a toolkit item (a diary entry, a ticked checklist, a worksheet),
    encrypted at rest like the messages: `ciphertext` is the JSON of the answers. Private to
    the client unless they share it with the counselor of `booking`, and with nobody else;
    `shared_at` null is not shared. Exported and erased with the account."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="toolkit_entries"
    )
    item = models.ForeignKey(ToolkitItem, on_delete=models.PROTECT, related_name="entries")
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="toolkit_entries"
    )
    ciphertext = models.BinaryField(default=b"")
    shared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Only an entry tied to a session can be shared: with that session's counselor.
            models.CheckConstraint(
                condition=models.Q(shared_at__isnull=True) | models.Q(booking__isnull=False),
                name="toolkit_entry_shared_needs_booking",
            ),
        ]
        indexes = [
            # "My toolkit": a client's entries, newest first.
            models.Index(fields=["client", "created_at"], name="toolkit_entry_client_idx"),
            # A counselor's view of what was shared with them, by session.
            models.Index(
                fields=["booking"],
                condition=models.Q(shared_at__isnull=False),
                name="toolkit_entry_shared_idx",
            ),
        ]

    def __str__(self):
        return f"toolkit entry {self.pk} of {self.client_id}"
