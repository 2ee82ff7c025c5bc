"""Reads that decide who may see what, and what is free to book."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from core.availability import CounselorDay, WeeklyRule, window_intervals
from core.encryption import decrypt_text
from core.export import iso, money
from counselors.models import AvailabilityWindow, CounselorProfile
from listening.models import Booking, SessionMessage, SessionNote

DAY = dt.timedelta(days=1)


def booking_list_for_user(*, user) -> QuerySet[Booking]:
    """The user's own bookings, as client or as counselor."""
    return Booking.objects.filter(Q(client=user) | Q(counselor_id=user.id)).select_related(
        "counselor", "counselor__user", "client"
    )


def booking_get_for_participant(*, user, booking_id: int) -> Booking:
    """The booking if `user` is one of its two participants; otherwise Booking.DoesNotExist,
    never a hint that it exists."""
    return booking_list_for_user(user=user).get(pk=booking_id)


class CounselorRules(NamedTuple):
    """The profile fields slot computation needs (plain values, cheap to load in bulk)."""

    pk: int
    timezone: str
    daily_cap: int
    buffer_minutes: int
    min_notice_minutes: int

    @classmethod
    def of(cls, profile: CounselorProfile) -> CounselorRules:
        return cls(
            profile.pk,
            profile.user.timezone,
            profile.daily_cap,
            profile.buffer_minutes,
            profile.min_notice_minutes,
        )


RULE_FIELDS = ["pk", "user__timezone", "daily_cap", "buffer_minutes", "min_notice_minutes"]
WINDOW_FIELDS = [
    "counselor_id",
    "kind",
    "start",
    "end",
    "weekday",
    "start_time",
    "end_time",
    "timezone",
    "valid_from",
    "valid_until",
]


def counselor_days(
    *,
    profiles: list[CounselorRules],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    exclude_booking_id: int | None = None,
) -> dict[int, CounselorDay]:
    """Everything needed to compute free slots in [start, end) for several counselors,
    loaded in two queries as plain values. Bookings are read for the whole local days the
    range touches, so the daily cap counts every session of those days. `exclude_booking_id`
    leaves one booking out (a booking being moved does not stand in its own way)."""
    now = now or timezone.now()
    ids = [p.pk for p in profiles]
    # Two days either side cover every local day the range touches in any zone (a local day can
    # last 25 hours, when the clocks go back) and any buffer.
    lo, hi = start - 2 * DAY, end + 2 * DAY
    weekly = Q(kind=AvailabilityWindow.Kind.WEEKLY, valid_from__lte=hi.date()) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=lo.date())
    )
    local_days = (end - start).days + 4  # local dates the range can touch in any zone (UTC-12..+14)
    if local_days < 7:
        first = (start - DAY).date()
        weekly &= Q(
            weekday__in={(first + dt.timedelta(days=i)).weekday() for i in range(local_days)}
        )
    windows = (
        AvailabilityWindow.objects.filter(counselor_id__in=ids)
        .filter(Q(kind=AvailabilityWindow.Kind.ONE_OFF, start__lt=end, end__gt=start) | weekly)
        .order_by()
        .values_list(*WINDOW_FIELDS)
    )
    one_offs: dict[int, list] = defaultdict(list)
    rules: dict[int, list] = defaultdict(list)
    for (
        cid,
        kind,
        w_start,
        w_end,
        weekday,
        start_time,
        end_time,
        tz,
        valid_from,
        valid_until,
    ) in windows:
        if kind == AvailabilityWindow.Kind.ONE_OFF:
            one_offs[cid].append((w_start, w_end))
        else:
            rules[cid].append(
                WeeklyRule(weekday, start_time, end_time, tz, valid_from, valid_until)
            )
    busy: dict[int, list] = defaultdict(list)
    held = Booking.objects.filter(
        counselor_id__in=ids, status__in=Booking.HOLDS_TIME, start__lt=hi, end__gt=lo
    )
    if exclude_booking_id is not None:
        held = held.exclude(pk=exclude_booking_id)
    for cid, bs, be in held.order_by("start").values_list("counselor_id", "start", "end"):
        busy[cid].append((bs, be))
    days = {}
    for p in profiles:
        tz = ZoneInfo(p.timezone)
        days[p.pk] = CounselorDay(
            timezone=p.timezone,
            daily_cap=p.daily_cap,
            buffer=dt.timedelta(minutes=p.buffer_minutes),
            earliest=now + dt.timedelta(minutes=p.min_notice_minutes),
            windows=window_intervals(one_offs[p.pk], rules[p.pk], start, end),
            busy=busy[p.pk],
            day_counts=Counter(bs.astimezone(tz).date() for bs, _be in busy[p.pk]),
        )
    return days


def counselor_free_slots(
    *, profile: CounselorProfile, start: dt.datetime, end: dt.datetime, duration_minutes: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    day = counselor_days(profiles=[CounselorRules.of(profile)], start=start, end=end)[profile.pk]
    return day.free_slots(start, end, dt.timedelta(minutes=duration_minutes))


def counselor_rules(*, profiles: QuerySet[CounselorProfile]) -> list[CounselorRules]:
    """The slot rules of every counselor in `profiles`, as plain values in one query."""
    return [
        CounselorRules(*row)
        for row in profiles.prefetch_related(None).order_by().values_list(*RULE_FIELDS)
    ]


def counselor_ids_with_free_slots(
    *,
    profiles: QuerySet[CounselorProfile],
    start: dt.datetime,
    end: dt.datetime,
    duration_minutes: int = 15,
) -> list[int]:
    """Ids of the counselors among `profiles` with at least one free slot starting in [start, end)."""
    candidates = counselor_rules(profiles=profiles)
    duration = dt.timedelta(minutes=duration_minutes)
    days = counselor_days(profiles=candidates, start=start, end=end)
    return [pk for pk, day in days.items() if day.free_slots(start, end, duration, limit=1)]


def booking_get_for_room(*, user, booking_id: int, now: dt.datetime | None = None) -> Booking:
    """The booking whose live room `user` may enter now: one of its two participants, the
    booking confirmed, from a few minutes before the start until the end. Otherwise
    PermissionDenied with the reason (for the log; the socket only hears 4403)."""
    now = now or timezone.now()
    try:
        booking = booking_get_for_participant(user=user, booking_id=booking_id)
    except Booking.DoesNotExist:
        raise PermissionDenied("not a participant") from None
    opens = booking.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES)
    if booking.status != Booking.Status.CONFIRMED or booking.ended_at:
        raise PermissionDenied(f"booking is {booking.status}")
    if now < opens:
        raise PermissionDenied("room not open yet")
    if now >= booking.end:
        raise PermissionDenied("session is over")
    return booking


class NoteView(NamedTuple):
    text: str
    revision: int
    updated_at: dt.datetime | None


def session_note_for_counselor(*, counselor, booking_id: int) -> NoteView:
    """The counselor's private notes on one of their own sessions, decrypted (empty if none).
    Only the session's counselor gets them: anyone else gets Booking.DoesNotExist (a 404);
    the client never sees them."""
    booking = Booking.objects.only("pk").get(pk=booking_id, counselor_id=counselor.pk)
    note = SessionNote.objects.filter(booking=booking).first()
    if note is None:
        return NoteView("", 0, None)
    return NoteView(
        decrypt_text(note.ciphertext) if note.ciphertext else "", note.revision, note.updated_at
    )


def _message_export(message, *, user: User) -> dict:
    out = {
        "seq": message.seq,
        "sent_at": iso(message.sent_at),
        "from": "me" if message.sender_id == user.pk else "other",
        "kind": message.kind,
        "text": decrypt_text(message.ciphertext) if message.ciphertext else "",
    }
    if message.kind == message.Kind.VOICE:
        # The recording itself stays downloadable from the booking's messages while it is kept.
        out["audio_seconds"] = message.audio_seconds
        out["audio_url"] = f"/api/v1/bookings/{message.booking_id}/messages/{message.seq}/audio/"
    return out


def _booking_export(booking, *, user: User) -> dict:
    feedback = getattr(booking, "feedback", None)
    as_client = booking.client_id == user.pk
    return {
        "id": booking.pk,
        "my_role": "client" if as_client else "counselor",
        "counselor": booking.counselor.display_name or booking.counselor.user.username,
        "client": booking.client.username,
        "start": iso(booking.start),
        "end": iso(booking.end),
        "duration_minutes": booking.duration_minutes,
        "mode": booking.mode,
        "topic": booking.topic,
        "note": booking.note,
        "price": money(booking.price),
        "status": booking.status,
        "booked_at": iso(booking.created_at),
        "cancelled_at": iso(booking.cancelled_at),
        "cancelled_by": (
            None
            if booking.cancelled_by_id is None
            else "me"
            if booking.cancelled_by_id == user.pk
            else "other"
        ),
        "cancel_reason": booking.cancel_reason,
        "completed_at": iso(booking.completed_at),
        "no_show_party": booking.no_show_party or None,
        "messages": [_message_export(m, user=user) for m in booking.messages.order_by("seq")],
        "feedback": None
        if feedback is None
        else {
            "pre_distress": feedback.pre_distress,
            "post_distress": feedback.post_distress,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "given_at": iso(feedback.created_at),
        },
    }


def bookings_export(*, user) -> list[dict]:
    """The user's bookings as client or counselor, with their messages decrypted and the
    feedback, for their data export (the other side only as far as the session itself)."""
    bookings = (
        Booking.objects.filter(Q(client=user) | Q(counselor_id=user.pk))
        .select_related("counselor__user", "client", "feedback")
        .order_by("start", "pk")
    )
    return [_booking_export(b, user=user) for b in bookings]


def message_frame(message: SessionMessage, *, text: str | None = None) -> dict:
    """The `chat.message` frame for a stored message (decrypting unless `text` is given)."""
    if text is None:
        text = decrypt_text(message.ciphertext) if message.ciphertext else ""
    frame = {
        "type": "chat.message",
        "id": str(message.uid),
        "seq": message.seq,
        "sender": message.sender_id,
        "kind": message.kind,
        "text": text,
        "sent_at": message.sent_at.isoformat(),
    }
    if message.kind == SessionMessage.Kind.VOICE:
        frame["audio_url"] = f"/api/v1/bookings/{message.booking_id}/messages/{message.seq}/audio/"
        frame["audio_seconds"] = message.audio_seconds
    return frame


def messages_after(*, booking_id: int, after_seq: int, limit: int = 500) -> list[dict]:
    """Frames of a booking's messages with seq > after_seq, in order (for replay)."""
    messages = SessionMessage.objects.filter(booking_id=booking_id, seq__gt=after_seq).order_by(
        "seq"
    )[:limit]
    return [message_frame(m) for m in messages]


# --- The counselor's dashboard and week grid ------------------------------------------------------


def counselor_sessions_between(*, user, start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """The counselor's own sessions starting in [start, end), cancelled ones left out."""
    return (
        booking_list_for_user(user=user)
        .filter(counselor_id=user.pk, start__gte=start, start__lt=end)
        .exclude(status=Booking.Status.CANCELLED)
        .order_by("start", "pk")
    )


def counselor_upcoming_count(*, user, after: dt.datetime) -> int:
    """How many confirmed sessions the counselor has from `after` on."""
    return Booking.objects.filter(
        counselor_id=user.pk, status=Booking.Status.CONFIRMED, start__gte=after
    ).count()


def counselor_earnings(*, user, start: dt.datetime, end: dt.datetime) -> dict:
    """Completed sessions in [start, end) and what they earned (each at its booked price)."""
    totals = Booking.objects.filter(
        counselor_id=user.pk, status=Booking.Status.COMPLETED, start__gte=start, start__lt=end
    ).aggregate(sessions=Count("pk"), minutes=Sum("duration_minutes"), total=Sum("price"))
    return {
        "start": start,
        "sessions": totals["sessions"],
        "minutes": totals["minutes"] or 0,
        "total": totals["total"] or 0,
    }


def counselor_busy_between(
    *, counselor_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The counselor's sessions holding time in [start, end): (start, end, mode label)."""
    return [
        (b.start, b.end, b.get_mode_display())
        for b in Booking.objects.filter(
            counselor_id=counselor_id, status__in=Booking.HOLDS_TIME, start__lt=end, end__gt=start
        ).order_by("start")
    ]
