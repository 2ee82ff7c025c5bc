from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.i18n import in_active_language
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


class CounselorEngagement(models.Model):
    """Time a counselor has committed outside one-to-one bookings (a group session they lead):
    slot search and booking checks treat it as busy, like a booking, so no one-to-one session
    is booked over it. Written by the app that owns the commitment (groups), under the
    counselor's profile row lock, which booking creation takes too."""

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="engagements"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    # What holds the time, e.g. "group:12" (for the owner to find its row again).
    reference = models.CharField(max_length=40, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="engagement_end_after_start"
            ),
        ]
        indexes = [
            # Slot search: a counselor's engagements overlapping a range (with the bookings).
            models.Index(fields=["counselor", "start"], name="engagement_counselor_start_idx"),
        ]

    def __str__(self):
        return f"{self.counselor_id} engaged {self.start}–{self.end} ({self.reference})"


class FreeTimeState(models.Model):
    """Whether a counselor's FreeTime rows may answer the directory's "free between" filter
    (listening.selectors.counselor_free_filter), which computes any counselor whose rows may
    not from the windows and bookings themselves.

    The rows may answer only while `stale` is false, the counselor's time zone, daily cap and
    buffer are still the ones they were computed under, and the range asked about ends by
    `covers_until`. Triggers in the database (migrations counselors 0009 and listening 0010)
    set `stale` in the same transaction as any change to the counselor's windows, time off,
    engagements or bookings, whichever code path makes it; the refresh
    (listening.services.free_time_refresh) holds this row locked while it recomputes, so a
    change made meanwhile waits for it and marks the row stale again afterwards."""

    counselor = models.OneToOneField(
        CounselorProfile,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="free_time_state",
    )
    stale = models.BooleanField(default=True)
    timezone = models.CharField(max_length=64)
    daily_cap = models.PositiveSmallIntegerField()
    buffer_minutes = models.PositiveSmallIntegerField()
    covers_until = models.DateTimeField()  # slot starts before this are in the rows
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The sweep: the counselors to recompute (stale, or their horizon running out).
            models.Index(
                fields=["counselor"],
                name="free_time_state_stale_idx",
                condition=models.Q(stale=True),
            ),
            models.Index(fields=["covers_until"], name="free_time_state_covers_idx"),
        ]

    def __str__(self):
        return f"{self.counselor_id} free time {'stale' if self.stale else 'current'}"


class FreeTime(models.Model):
    """A span of a counselor's free time (their windows, less time off and their bookings and
    engagements widened by the buffer) cut to the slot starts of one local day that the daily
    cap leaves open: a slot may start on a UTC quarter hour in [starts_from, starts_until) and
    must end by `free_until`, the end of the whole span (a slot may run past midnight)."""

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    local_date = models.DateField()
    starts_from = models.DateTimeField()
    starts_until = models.DateTimeField()
    free_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_until__gt=models.F("starts_from"))
                & models.Q(free_until__gte=models.F("starts_until")),
                name="free_time_spans_ordered",
            ),
        ]
        indexes = [
            # The directory's probe: a counselor's spans with slot starts after a moment.
            models.Index(fields=["counselor", "starts_until"], name="free_time_counselor_idx"),
        ]

    def __str__(self):
        return f"{self.counselor_id} free {self.starts_from}–{self.free_until}"


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


def toolkit_audio_path(instance: "ToolkitItem", filename: str) -> str:
    # No uploaded name reaches the storage.
    return f"toolkit-audio/{instance.owner_id or 'library'}/{instance.slug or 'item'}.bin"


class ToolkitItem(models.Model):
    """A micro-intervention tool a short session leaves with the client: a diary template, a
    guided audio, a checklist or a worksheet. `owner` null is the platform's starter library
    (seeded by a data migration, usable by every counselor); otherwise the counselor's own.

    `fields` is the structure the client fills in, by kind:
    - diary: [{"key", "label_en", "label_zh", "type": "text" | "scale"}] (a scale is 0–10);
    - checklist: [{"key", "label_en", "label_zh", "explain_en", "explain_zh"}];
    - worksheet: [{"key", "label_en", "label_zh"}] (free-text prompts);
    - audio: [] (the file plays; `body_*` holds its script as text)."""

    class Kind(models.TextChoices):
        DIARY = "diary", _("Diary template")
        AUDIO = "audio", _("Guided audio")
        CHECKLIST = "checklist", _("Checklist")
        WORKSHEET = "worksheet", _("Worksheet")

    owner = models.ForeignKey(
        CounselorProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="toolkit_items",
    )
    slug = models.SlugField(max_length=60)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title_en = models.CharField(max_length=120, blank=True)
    title_zh = models.CharField(max_length=120, blank=True)
    body_en = models.TextField(max_length=6000, blank=True)
    body_zh = models.TextField(max_length=6000, blank=True)
    fields = models.JSONField(default=list, blank=True)
    audio = models.FileField(upload_to=toolkit_audio_path, blank=True)
    audio_content_type = models.CharField(max_length=32, blank=True)
    audio_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner_id", "kind", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["diary", "audio", "checklist", "worksheet"]),
                name="toolkit_item_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(title_en="", title_zh=""), name="toolkit_item_has_a_title"
            ),
            # A library slug is unique in the library, a counselor's among their own items.
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(owner__isnull=True),
                name="toolkit_library_slug_unique",
            ),
            models.UniqueConstraint(fields=["owner", "slug"], name="toolkit_owner_slug_unique"),
        ]

    def __str__(self):
        return self.slug

    @property
    def is_library(self) -> bool:
        return self.owner_id is None

    @property
    def title(self) -> str:
        return in_active_language(self.title_en, self.title_zh)

    @property
    def body(self) -> str:
        return in_active_language(self.body_en, self.body_zh)


class Offering(models.Model):
    """A service a counselor packages ("5-minute stress relief"): a fixed duration and price,
    the modes and specialties it serves, and toolkit items the client gets before and after.
    A booking that names an offering takes its price and duration. Offerings are never
    deleted once published (bookings refer to them): a counselor withdraws one, and staff can
    unpublish one with a reason."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn by the counselor")
        UNPUBLISHED = "unpublished", _("Unpublished by staff")

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.CASCADE, related_name="offerings"
    )
    title_en = models.CharField(max_length=120, blank=True)
    title_zh = models.CharField(max_length=120, blank=True)
    description_en = models.TextField(max_length=2000, blank=True)
    description_zh = models.TextField(max_length=2000, blank=True)
    duration_minutes = models.PositiveSmallIntegerField()
    modes = ArrayField(models.CharField(max_length=8, choices=SessionMode.choices), default=list)
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="offerings")
    items = models.ManyToManyField(ToolkitItem, blank=True, related_name="offerings")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PUBLISHED)
    unpublished_reason = models.CharField(max_length=500, blank=True)
    unpublished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unpublished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["counselor_id", "duration_minutes", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__in=[15, 30]), name="offering_duration_15_30"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="offering_price_gte_0"),
            models.CheckConstraint(
                condition=~models.Q(title_en="", title_zh=""), name="offering_has_a_title"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["published", "withdrawn", "unpublished"]),
                name="offering_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="unpublished") | ~models.Q(unpublished_reason=""),
                name="offering_unpublished_has_reason",
            ),
        ]
        indexes = [
            # `offerings/?counselor=` and the directory's prefetch: a counselor's published ones.
            models.Index(fields=["counselor", "status"], name="offering_counselor_status_idx"),
        ]

    def __str__(self):
        return self.title_en or self.title_zh

    @property
    def title(self) -> str:
        return in_active_language(self.title_en, self.title_zh)

    @property
    def description(self) -> str:
        return in_active_language(self.description_en, self.description_zh)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED
