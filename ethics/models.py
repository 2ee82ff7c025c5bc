from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Resource(models.Model):
    """The referral directory: hotlines, long-term care, EAPs, groups, books and courses.
    Seeded by a data migration with widely published entries (each with its source);
    staff keep it current in the admin."""

    # What anyone may see of an entry (the `resources/` API and the resource on a referral).
    PUBLIC_FIELDS = (
        "id",
        "kind",
        "name",
        "region",
        "language",
        "contact",
        "hours",
        "description",
        "source",
        "last_verified",
    )

    class Kind(models.TextChoices):
        HOTLINE = "hotline", _("Hotline")
        LONG_TERM_COUNSELING = "long-term-counseling", _("Long-term counseling")
        HOSPITAL_PSYCHIATRY = "hospital-psychiatry", _("Hospital psychiatry")
        EAP = "eap", _("Employee assistance programme")
        SUPPORT_GROUP = "support-group", _("Support group")
        BOOK = "book", _("Book")
        COURSE = "course", _("Course")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    name = models.CharField(max_length=200)
    region = models.CharField(
        max_length=16, help_text=_("ISO country code (CN, HK, TW, US, GB, ...) or 'global'")
    )
    language = models.CharField(
        max_length=8, help_text=_("Session language code: zh, yue, en, ...")
    )
    contact = models.CharField(
        max_length=200, blank=True, help_text=_("Phone number, address or URL")
    )
    hours = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=300, help_text=_("Where this entry was published"))
    last_verified = models.DateField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "region", "name"]
        indexes = [
            # resources/?kind=&region=&language= and the crisis panel's hotline lookup.
            models.Index(fields=["kind", "region", "language"], name="resource_lookup_idx"),
        ]

    def __str__(self):
        return self.name


class OnCallShift(models.Model):
    """Who answers crisis alerts, when (managed in the admin)."""

    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["starts_at", "ends_at"], name="shift_window_idx")
        ]  # who is on now

    def __str__(self):
        return f"{self.supervisor} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class CrisisAlert(models.Model):
    """A crisis signal that a person must acknowledge. The row is written in the same
    transaction as the text that carried it, so it is the outbox: notifications and the
    escalation ladder are driven from it and re-driven until it is acknowledged."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    class Severity(models.IntegerChoices):
        HIGH = 2, _("High")
        LOW = 1, _("Low")

    class Source(models.TextChoices):
        CHAT = "chat", _("Session chat")
        MESSAGE = "message", _("Async message")
        INTAKE = "intake", _("Intake")
        MATCH_NOTE = "match-note", _("Match request note")
        COMPLAINT = "complaint", _("Complaint")
        COUNSELOR = "counselor", _("Raised by the counselor")

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", _("Client contacted")
        EMERGENCY_SERVICES = "emergency-services", _("Emergency services called")
        REFERRED = "referred", _("Referred")
        FALSE_ALARM = "false-alarm", _("False alarm")

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="crisis_alerts"
    )
    booking = models.ForeignKey(
        "listening.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="crisis_alerts",
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.HIGH)
    source = models.CharField(max_length=16, choices=Source.choices)
    reasons = models.JSONField(default=list)
    signal_count = models.PositiveIntegerField(default=1)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    # The ladder: 0 = on-call told, 1 = everyone on call and all staff (2 min), 2 = overdue (5 min).
    escalation_level = models.PositiveSmallIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    nobody_on_shift = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ["-severity", "created_at"]
        constraints = [
            # Repeated signals in one booking join its open alert instead of multiplying it.
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(status="open"),
                name="one_open_alert_per_booking",
            ),
        ]
        indexes = [
            # The on-call queue (severity, then age) and the sweeper's pending alerts.
            models.Index(fields=["status", "-severity", "created_at"], name="alert_queue_idx"),
        ]

    def __str__(self):
        return f"Crisis alert {self.pk} ({self.get_status_display()})"


class EthicsFlag(models.Model):
    """Something for staff to review afterwards (every crisis alert opens one)."""

    class Kind(models.TextChoices):
        CRISIS = "crisis", _("Crisis")
        OFF_PLATFORM_CONTACT = "off-platform-contact", _("Off-platform contact")
        DUAL_RELATIONSHIP = "dual-relationship", _("Dual relationship")
        COMPLAINT = "complaint", _("Complaint")
        QUALITY = "quality", _("Quality")
        BOUNDARY = "boundary", _("Boundary")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_REVIEW = "in-review", _("In review")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    booking = models.ForeignKey(
        "listening.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ethics_flags",
    )
    counselor = models.ForeignKey(
        "counselors.CounselorProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ethics_flags",
    )
    alert = models.OneToOneField(
        CrisisAlert, on_delete=models.PROTECT, null=True, blank=True, related_name="ethics_flag"
    )
    summary = models.TextField(max_length=4000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(max_length=4000, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set by the review (oversight.services.flag_resolve): who resolved it and what was done.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(
        max_length=24,
        blank=True,
        help_text=_("none, warn, suspend-counselor, hold-content or close"),
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "kind", "created_at"], name="flag_queue_idx")
        ]  # review queue

    def __str__(self):
        return f"{self.get_kind_display()} flag {self.pk}"


# --- Referrals, complaints and the ethics review (oversight.services) -------------------------


class Referral(models.Model):
    """A counselor refers the client of one of their sessions to a directory resource.
    The client accepts or declines it; an accepted one gets a check-in after seven days."""

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        SOON = "soon", _("Soon")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.PROTECT, related_name="referrals"
    )
    counselor = models.ForeignKey(
        "counselors.CounselorProfile", on_delete=models.PROTECT, related_name="referrals"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_received"
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="referrals")
    reason = models.TextField(max_length=2000)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Set on acceptance (accepted + 7 days); the check-in claims the row by setting follow_up_sent_at.
    follow_up_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(urgency__in=["routine", "soon", "urgent"]),
                name="referral_urgency_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "declined"]),
                name="referral_status_valid",
            ),
            # One live referral per booking and resource (a declined one may be made again).
            models.UniqueConstraint(
                fields=["booking", "resource"],
                condition=~models.Q(status="declined"),
                name="one_live_referral_per_booking_resource",
            ),
        ]
        indexes = [
            models.Index(fields=["counselor", "created_at"], name="referral_counselor_idx"),
            models.Index(fields=["client", "created_at"], name="referral_client_idx"),
            # The follow-up sweep: accepted, not yet checked in, due.
            models.Index(
                fields=["follow_up_due_at"],
                name="referral_follow_up_due_idx",
                condition=models.Q(status="accepted", follow_up_sent_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Referral {self.pk} to {self.resource_id} ({self.status})"


class Complaint(models.Model):
    """A client's complaint about one of their sessions; it opens an EthicsFlag of kind
    `complaint`. The text is for the reviewers only (never shown to the counselor)."""

    flag = models.OneToOneField(EthicsFlag, on_delete=models.PROTECT, related_name="complaint")
    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.PROTECT, related_name="complaints"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints"
    )
    text = models.TextField(max_length=4000)
    crisis_alert = models.ForeignKey(
        CrisisAlert, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Complaint {self.pk} about booking {self.booking_id}"


class FlagNote(models.Model):
    """A reviewer's note on a flag (append-only)."""

    flag = models.ForeignKey(EthicsFlag, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Note {self.pk} on flag {self.flag_id}"


class AuditLog(models.Model):
    """Who did what in the ethics review, when: above all every read of session content."""

    class Action(models.TextChoices):
        READ_CONTENT = "read-content", _("Read session content")
        ASSIGN = "assign", _("Assigned")
        RESOLVE = "resolve", _("Resolved")
        NOTE = "note", _("Added a note")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    flag = models.ForeignKey(
        EthicsFlag, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_log"
    )
    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["flag", "created_at"], name="audit_flag_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}: {self.detail}"


class RiskCue(models.Model):
    """One conversation cue found in one text (issue 12), kept when the text is stored so that
    the window of recent messages is combined without decrypting or re-screening them. The
    phrase is the lexicon's wording that matched (as in an alert's reasons), not the text."""

    class Person(models.TextChoices):
        OWN = "own", _("The client's own")
        OTHER = "other", _("Someone else's")

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A talk-now request's id. Not a foreign key: matching sits above ethics (the layers).
    match_request_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=CrisisAlert.Source.choices)
    # The message's id and seq for a chat or async message (not a foreign key, for the same
    # reason: listening's messages are a layer above).
    message_id = models.PositiveBigIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(null=True, blank=True)
    category = models.CharField(max_length=16)
    weight = models.PositiveSmallIntegerField()
    phrase = models.CharField(max_length=200)
    person = models.CharField(max_length=8, choices=Person.choices, default=Person.OWN)
    # The single-message detector rated this text high (it alerted on its own).
    high = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0, weight__lte=3), name="risk_cue_weight_range"
            ),
        ]
        indexes = [
            # The booking's window and the client's last 24 hours.
            models.Index(fields=["booking", "at"], name="risk_cue_booking_idx"),
            models.Index(fields=["client", "at"], name="risk_cue_client_idx"),
        ]

    def __str__(self):
        return f"{self.category} ({self.weight}) in {self.source} {self.message_id or ''}"


class RiskAssessment(models.Model):
    """The conversation-level risk of one subject: a booking's thread (live and async), a
    talk-now request (note plus intake), or a client's last 24 hours. Re-evaluated in the
    transaction that stores each text with a cue; the rule and the cues say why."""

    class Subject(models.TextChoices):
        BOOKING = "booking", _("Booking thread")
        MATCH_REQUEST = "match-request", _("Talk-now request")
        CLIENT_DAY = "client-24h", _("Client, last 24 hours")

    class Level(models.TextChoices):
        HIGH = "high", _("High")
        CHECK = "check", _("Check")
        NONE = "none", _("None")

    subject = models.CharField(max_length=16, choices=Subject.choices)
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    match_request_id = models.PositiveBigIntegerField(null=True, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.NONE)
    rule = models.CharField(max_length=64, blank=True)
    # [[category, message id (or null), phrase], ...]: the cues behind the rule.
    cues = models.JSONField(default=list)
    third_party = models.BooleanField(default=False)
    # An async thread at check: the counselor owes a risk check by `check_due_at` (the SLA,
    # settings.RISK_CHECK_SLA_SECONDS); past it, unanswered, it goes to the on-call queue.
    check_due_at = models.DateTimeField(null=True, blank=True)
    check_answered_at = models.DateTimeField(null=True, blank=True)
    check_escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(subject="booking"),
                name="one_assessment_per_booking",
            ),
            models.UniqueConstraint(
                fields=["match_request_id"],
                condition=models.Q(subject="match-request"),
                name="one_assessment_per_match_request",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(subject="client-24h"),
                name="one_day_assessment_per_client",
            ),
            # Each subject names exactly what it is about.
            models.CheckConstraint(
                condition=(
                    models.Q(subject="booking", booking__isnull=False)
                    | models.Q(subject="match-request", match_request_id__isnull=False)
                    | models.Q(
                        subject="client-24h", booking__isnull=True, match_request_id__isnull=True
                    )
                ),
                name="assessment_subject_named",
            ),
        ]
        indexes = [
            # The sweeper's overdue checks.
            models.Index(
                fields=["check_due_at"],
                condition=models.Q(check_due_at__isnull=False, check_escalated_at__isnull=True),
                name="risk_check_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.subject} risk {self.level} ({self.rule or '-'})"


class RiskCheck(models.Model):
    """A counselor's structured risk check: the six questions of the Columbia screener
    (C-SSRS screen version), asked in the room, and the outcome of its published triage."""

    class Outcome(models.TextChoices):
        HIGH = "high", _("High risk")
        MODERATE = "moderate", _("Moderate risk")
        LOW = "low", _("Low risk")
        NONE = "none", _("No risk indicated")

    booking = models.ForeignKey(
        "listening.Booking", on_delete=models.PROTECT, related_name="risk_checks"
    )
    alert = models.ForeignKey(
        CrisisAlert, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_checks"
    )
    counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_checks_made"
    )
    # Questions 1, 2 and 6 are always asked; 3-5 only after a yes to 2 (null = not asked).
    q1_wish_dead = models.BooleanField()
    q2_thoughts = models.BooleanField()
    q3_method = models.BooleanField(null=True, blank=True)
    q4_intent = models.BooleanField(null=True, blank=True)
    q5_plan = models.BooleanField(null=True, blank=True)
    q6_behavior = models.BooleanField()
    # Question 6's follow-up: was it within the past 3 months (null when q6 is no).
    q6_recent = models.BooleanField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # The safety plan and the referral note are what the counselor wrote about the client:
    # encrypted at rest like session messages and notes (core.encryption).
    safety_plan_ciphertext = models.BinaryField(blank=True, default=b"")
    referral_note_ciphertext = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The screener's order: 3-5 follow a yes to 2; the 3-month question follows 6.
            models.CheckConstraint(
                condition=models.Q(q2_thoughts=True)
                | models.Q(q3_method__isnull=True, q4_intent__isnull=True, q5_plan__isnull=True),
                name="risk_check_q3_5_after_q2",
            ),
            models.CheckConstraint(
                condition=models.Q(q6_behavior=True) | models.Q(q6_recent__isnull=True),
                name="risk_check_recent_after_q6",
            ),
        ]
        indexes = [models.Index(fields=["booking", "created_at"], name="risk_check_booking_idx")]

    def __str__(self):
        return f"Risk check {self.pk} on booking {self.booking_id}: {self.outcome}"
