"""Themed group sessions: a counselor, a topic, 3–8 seats, a short room of its own.

Seats are one row per position (`GroupSeat`, position 1..capacity) created with the group;
taking a seat is a conditional UPDATE of one free row, so the database can never hand out
more seats than rows exist, and a partial unique constraint keeps one seat per client."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from counselors.models import CounselorProfile
from ethics.models import CrisisAlert

# Group lengths are the groups' own (bookings use core.sessions.SESSION_LENGTHS).
GROUP_LENGTHS = (30, 45)
GROUP_CAPACITY_MIN = 3
GROUP_CAPACITY_MAX = 8
# Minutes before the end when the room is warned, as in one-to-one rooms.
GROUP_WARNING_MINUTES = 5


def pseudonym_for(position: int) -> str:
    """The per-group name of seat `position` (stored and sent in English; pages and the room
    script show it translated). Never derived from the user."""
    return f"Participant {position}"


class GroupSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        ENDED = "ended", _("Ended")

    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.PROTECT, related_name="group_sessions"
    )
    title = models.CharField(max_length=120)
    topic = models.CharField(max_length=500)
    start = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(GROUP_CAPACITY_MIN), MaxValueValidator(GROUP_CAPACITY_MAX)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    message_seq = models.PositiveIntegerField(default=0)
    side_seq = models.PositiveIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    capacity__gte=GROUP_CAPACITY_MIN, capacity__lte=GROUP_CAPACITY_MAX
                ),
                name="group_capacity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__in=GROUP_LENGTHS), name="group_length_valid"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="group_price_nonneg"),
            models.CheckConstraint(
                condition=models.Q(status__in=["scheduled", "cancelled", "ended"]),
                name="group_status_valid",
            ),
        ]
        indexes = [
            # The list of upcoming groups (status scheduled, by start) and the clock's sweep.
            models.Index(fields=["status", "start"], name="group_status_start_idx"),
        ]

    def __str__(self):
        return f"group {self.pk}: {self.title}"

    @property
    def end(self):
        return self.start + dt.timedelta(minutes=self.duration_minutes)


class GroupSeat(models.Model):
    """One row per position. `client` is null while the seat is free. A removed client's seat
    is freed (their `GroupRemoval` row keeps them out): nobody else can take it mid-session,
    because seats are only taken before the start."""

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="seats")
    position = models.PositiveSmallIntegerField()
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    muted_at = models.DateTimeField(null=True, blank=True)
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["group", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "position"], name="group_seat_position_unique"
            ),
            # At most one seat per client and group.
            models.UniqueConstraint(
                fields=["group", "client"],
                condition=models.Q(client__isnull=False),
                name="group_seat_one_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="group_seat_position_pos"
            ),
        ]
        indexes = [
            # "the seats this client holds" (overlap check, their groups list).
            models.Index(fields=["client"], name="group_seat_client_idx"),
        ]

    def __str__(self):
        return f"seat {self.position} of group {self.group_id}"


class GroupRemoval(models.Model):
    """A client the counselor removed: they cannot rejoin this group (audit: who, when)."""

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="removals")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pseudonym = models.CharField(max_length=40)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "client"], name="group_removal_unique"),
        ]


class GroupModeration(models.Model):
    """Audit of mute, unmute and remove: who did what to which pseudonym, when."""

    class Action(models.TextChoices):
        MUTE = "mute", _("Muted")
        UNMUTE = "unmute", _("Unmuted")
        REMOVE = "remove", _("Removed")

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="moderations")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()


class GroupMessage(models.Model):
    """A chat line in a group (encrypted at rest); `seq` orders replay, `uid` dedupes resends.
    `pseudonym` is fixed when sent, so replay never needs the sender's identity."""

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    uid = models.UUIDField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(max_length=40)
    # The sender's seat position; null for the counselor. Frames carry it, never the user.
    seat = models.PositiveSmallIntegerField(null=True, blank=True)
    ciphertext = models.BinaryField(blank=True, default=b"")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["group", "seq"]
        constraints = [
            # Replay (`after_seq`) reads a group's messages in seq order through this index.
            models.UniqueConstraint(fields=["group", "seq"], name="group_message_seq_unique"),
            models.UniqueConstraint(fields=["group", "uid"], name="group_message_uid_unique"),
        ]


class GroupSideMessage(models.Model):
    """The private side channel between one participant and the counselor, opened by a crisis
    signal. Own seq per group; encrypted like the group's messages."""

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="side_messages")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    uid = models.UUIDField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ciphertext = models.BinaryField(blank=True, default=b"")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["group", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["group", "seq"], name="group_side_seq_unique"),
            models.UniqueConstraint(fields=["group", "uid"], name="group_side_uid_unique"),
        ]


class GroupCrisisLink(models.Model):
    """Which group a crisis alert came from (ethics is below groups, so the link lives here).
    Its existence also opens the side channel for that client in that group."""

    group = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="crisis_links")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(CrisisAlert, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "client"], name="group_crisis_link_unique"),
        ]
