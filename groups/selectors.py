"""Reads of group sessions that decide who may see what. A group's members are only ever
shown as seat pseudonyms: no selector here returns another member's user, name or id."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.encryption import decrypt_text
from counselors.models import CounselorProfile
from groups.models import (
    GroupCrisisLink,
    GroupMessage,
    GroupRemoval,
    GroupSeat,
    GroupSession,
    GroupSideMessage,
    pseudonym_for,
)


def group_list_upcoming(*, user: User, now: dt.datetime | None = None) -> QuerySet[GroupSession]:
    """Groups a client may still join or already holds a seat in (scheduled, not yet ended),
    a counselor's own groups, or (staff) every scheduled group; soonest first. Each row
    carries `seats_taken` and, for the caller, `joined`."""
    now = now or timezone.now()
    qs = (
        GroupSession.objects.select_related("counselor", "counselor__user")
        .annotate(
            seats_taken=Count("seats", filter=Q(seats__client__isnull=False)),
            joined=Exists(GroupSeat.objects.filter(group=OuterRef("pk"), client_id=user.pk)),
        )
        .order_by("start", "pk")
    )
    # Started groups stay listed until their longest possible end, then drop out.
    recent = now - dt.timedelta(minutes=45)
    if user.is_counselor:
        return qs.filter(counselor__user=user, start__gte=recent - dt.timedelta(days=30))
    if user.is_staff_member:
        return qs.filter(status=GroupSession.Status.SCHEDULED, start__gte=recent)
    return qs.filter(
        Q(
            status=GroupSession.Status.SCHEDULED,
            start__gt=now,
            counselor__is_active=True,
            counselor__verification=CounselorProfile.Verification.VERIFIED,
            counselor__user__is_active=True,
        )
        | Q(joined=True, start__gte=recent)
    )


def group_get_for_viewer(*, user: User, group_id: int) -> GroupSession:
    """One group as `group_list_upcoming` would list it, or its counselor's own at any time.
    Anyone else: GroupSession.DoesNotExist (a 404, never a hint that it exists)."""
    return group_list_upcoming(user=user).get(pk=group_id)


class RoomEntry(NamedTuple):
    group: GroupSession
    role: str  # "counselor" or "participant"
    seat: GroupSeat | None


def group_get_for_room(*, user: User, group_id: int, now: dt.datetime | None = None) -> RoomEntry:
    """The group whose room `user` may enter now: its counselor, or a client holding a seat,
    the group scheduled, from a few minutes before the start until the end. Otherwise
    PermissionDenied with the reason (for the log; the socket only hears 4403)."""
    now = now or timezone.now()
    group = (
        GroupSession.objects.select_related("counselor", "counselor__user")
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise PermissionDenied("no such group")
    if group.counselor.user_id == user.pk:
        role, seat = "counselor", None
    else:
        seat = GroupSeat.objects.filter(group=group, client=user).first()
        if seat is None:
            raise PermissionDenied("not a participant")
        role = "participant"
    if group.status != GroupSession.Status.SCHEDULED or group.ended_at is not None:
        raise PermissionDenied(f"group is {group.status}")
    if now < group.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES):
        raise PermissionDenied("room not open yet")
    if now >= group.end:
        raise PermissionDenied("group is over")
    return RoomEntry(group, role, seat)


def group_participants(*, group_id: int) -> list[dict]:
    """The seats taken, as pseudonyms (with mute state), in seat order."""
    return [
        {"seat": s.position, "pseudonym": pseudonym_for(s.position), "muted": bool(s.muted_at)}
        for s in GroupSeat.objects.filter(group_id=group_id, client__isnull=False).order_by(
            "position"
        )
    ]


def group_message_frame(message: GroupMessage, *, text: str | None = None) -> dict:
    """The `chat.message` frame of a group line: the seat and pseudonym, never the sender."""
    if text is None:
        text = decrypt_text(message.ciphertext) if message.ciphertext else ""
    return {
        "type": "chat.message",
        "id": str(message.uid),
        "seq": message.seq,
        "seat": message.seat,
        "from": "counselor" if message.seat is None else "participant",
        "pseudonym": message.pseudonym,
        "text": text,
        "sent_at": message.sent_at.isoformat(),
    }


def group_messages_after(*, group_id: int, after_seq: int, limit: int = 500) -> list[dict]:
    """Frames of a group's lines with seq > after_seq, in order (for replay)."""
    messages = GroupMessage.objects.filter(group_id=group_id, seq__gt=after_seq).order_by("seq")
    return [group_message_frame(m) for m in messages[:limit]]


def side_message_frame(message: GroupSideMessage, *, seat: int, text: str | None = None) -> dict:
    if text is None:
        text = decrypt_text(message.ciphertext) if message.ciphertext else ""
    return {
        "type": "side.message",
        "id": str(message.uid),
        "seq": message.seq,
        "seat": seat,
        "from": "participant" if message.sender_id == message.client_id else "counselor",
        "text": text,
        "sent_at": message.sent_at.isoformat(),
    }


def side_channels_for(*, group_id: int, user: User, role: str) -> list[int]:
    """Seats whose private channel `user` may use: the counselor's every open one, a
    participant's own (if open)."""
    links = GroupCrisisLink.objects.filter(group_id=group_id)
    if role != "counselor":
        links = links.filter(client=user)
    clients = set(links.values_list("client_id", flat=True))
    seats = GroupSeat.objects.filter(group_id=group_id, client_id__in=clients)
    return sorted(seats.values_list("position", flat=True))


def side_messages_after(
    *, group_id: int, user: User, role: str, after_seq: int, limit: int = 500
) -> list[dict]:
    """Replay of the side channels `user` may read (see `side_channels_for`)."""
    seat_of = dict(
        GroupSeat.objects.filter(group_id=group_id, client__isnull=False).values_list(
            "client_id", "position"
        )
    )
    messages = GroupSideMessage.objects.filter(group_id=group_id, seq__gt=after_seq)
    if role != "counselor":
        messages = messages.filter(client=user)
    return [
        side_message_frame(m, seat=seat_of.get(m.client_id, 0))
        for m in messages.order_by("seq")[:limit]
    ]


def group_was_removed(*, group_id: int, user: User) -> bool:
    return GroupRemoval.objects.filter(group_id=group_id, client=user).exists()


def group_seats_of(*, user: User) -> dict[int, int]:
    """{group id: seat position} of the seats `user` holds (their own, for "my seat")."""
    return dict(GroupSeat.objects.filter(client_id=user.pk).values_list("group_id", "position"))


def group_room_open(*, group: GroupSession, now: dt.datetime) -> bool:
    """Whether the room of a scheduled group is open at `now` (see `group_get_for_room`)."""
    return group_room_state(group=group, now=now) == "open"


def group_room_state(*, group: GroupSession, now: dt.datetime) -> str:
    """upcoming, open, over or cancelled: what the room page says before its socket connects."""
    if group.status == GroupSession.Status.CANCELLED:
        return "cancelled"
    if group.status == GroupSession.Status.ENDED or group.ended_at or now >= group.end:
        return "over"
    if now < group.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES):
        return "upcoming"
    return "open"
