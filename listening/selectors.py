"""Reads that decide who may see what, and what is free to book."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from billing.selectors import counselor_earned_between
from core.availability import (
    CounselorDay,
    WeeklyRule,
    days_off_intervals,
    subtract,
    window_intervals,
)
from core.encryption import decrypt_text
from core.export import iso, money
from core.sessions import SessionMode
from counselors.models import (
    AvailabilityWindow,
    CounselorEngagement,
    CounselorProfile,
    FreeTime,
    HistoryShare,
    Offering,
    PreferredCounselor,
    TimeOff,
)
from listening.models import Booking, Feedback, SessionMessage, SessionNote
from organisations.models import Refusal

DAY = dt.timedelta(days=1)


def booking_list_for_user(*, user) -> QuerySet[Booking]:
    """The user's own bookings, as client or as counselor."""
    return Booking.objects.filter(Q(client=user) | Q(counselor_id=user.id)).select_related(
        "counselor", "counselor__user", "client", "allowance_claim__organisation"
    )


def booking_funding(booking: Booking, *, viewer) -> dict:
    """Who pays for the session: `{"kind": "package", "package": purchase id}` for a session
    of a package; `{"kind": "allowance", "organisation": name}` when an
    organisation's allowance does, else `{"kind": "self", "note": why the allowance did not}`
    (the note empty for a client with no organisation). Only the client is told the
    organisation's name or the note: the counselor learns that a sponsor pays, not who."""
    as_client = viewer is not None and viewer.pk == booking.client_id
    if booking.package_purchase_id is not None:  # paid from one of the client's packages
        return {"kind": "package", "package": booking.package_purchase_id}
    claim = booking.allowance_claim
    if claim is not None:
        funding = {"kind": "allowance"}
        if as_client:
            funding["organisation"] = claim.organisation.name
        return funding
    note = ""
    if as_client and booking.allowance_refusal in Refusal.values:
        note = str(Refusal(booking.allowance_refusal).label)
    return {"kind": "self", "note": note}


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
TIME_OFF_KIND = "time_off"


def _time_off_rows(*, ids: list[int], lo: dt.datetime, hi: dt.datetime) -> QuerySet:
    """The counselors' time off touching [lo, hi), shaped as rows of the windows query
    (WINDOW_FIELDS: kind "time_off", the dates in valid_from/valid_until), so that both come
    back in one round trip (UNION ALL). Local dates: a day either side covers every zone."""
    none = {
        "start": models.DateTimeField(),
        "end": models.DateTimeField(),
        "weekday": models.PositiveSmallIntegerField(),
        "start_time": models.TimeField(),
        "end_time": models.TimeField(),
    }
    return (
        TimeOff.objects.filter(
            counselor_id__in=ids,
            end_date__gte=(lo - DAY).date(),
            start_date__lte=(hi + DAY).date(),
        )
        .order_by()
        .annotate(
            w_counselor=F("counselor_id"),
            w_kind=Value(TIME_OFF_KIND, output_field=models.CharField()),
            **{f"w_{name}": Value(None, output_field=f) for name, f in none.items()},
            w_timezone=Value("", output_field=models.CharField()),
            w_valid_from=F("start_date"),
            w_valid_until=F("end_date"),
        )
        .values_list(*(f"w_{name}" for name in ["counselor", *WINDOW_FIELDS[1:]]))
    )


def counselor_days(
    *,
    profiles: list[CounselorRules],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    exclude_booking_id: int | None = None,
) -> dict[int, CounselorDay]:
    """Everything needed to compute free slots in [start, end) for several counselors,
    loaded in two queries as plain values (windows and time off in one, bookings in the
    other). Time off (whole local days in the counselor's zone) is cut out of the windows, so
    slot lists, the directory's filter and booking checks all leave it free. Bookings are read for the whole local days the
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
        .union(_time_off_rows(ids=ids, lo=lo, hi=hi), all=True)
    )
    one_offs: dict[int, list] = defaultdict(list)
    rules: dict[int, list] = defaultdict(list)
    days_off: dict[int, list] = defaultdict(list)
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
        elif kind == TIME_OFF_KIND:
            days_off[cid].append((valid_from, valid_until))
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
    # The groups they lead hold their time too (same round trip: UNION ALL).
    engaged = CounselorEngagement.objects.filter(
        counselor_id__in=ids, start__lt=hi, end__gt=lo
    ).values_list("counselor_id", "start", "end")
    rows = (
        held.order_by()
        .values_list("counselor_id", "start", "end")
        .union(engaged, all=True)
        .order_by("start")
    )
    for cid, bs, be in rows:
        busy[cid].append((bs, be))
    days = {}
    for p in profiles:
        tz = ZoneInfo(p.timezone)
        away = (
            days_off_intervals(days_off[p.pk], p.timezone, start, end) if p.pk in days_off else []
        )
        days[p.pk] = CounselorDay(
            timezone=p.timezone,
            daily_cap=p.daily_cap,
            buffer=dt.timedelta(minutes=p.buffer_minutes),
            earliest=now + dt.timedelta(minutes=p.min_notice_minutes),
            windows=subtract(window_intervals(one_offs[p.pk], rules[p.pk], start, end), away),
            busy=busy[p.pk],
            day_counts=Counter(bs.astimezone(tz).date() for bs, _be in busy[p.pk]),
            away=away,
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
    now: dt.datetime | None = None,
) -> list[int]:
    """Ids of the counselors among `profiles` with at least one free slot starting in [start,
    end), computed from their windows and bookings (the definition counselor_free_filter's
    precomputed answer is tested against)."""
    candidates = counselor_rules(profiles=profiles)
    if not candidates:
        return []  # no need to read windows and bookings of nobody
    duration = dt.timedelta(minutes=duration_minutes)
    days = counselor_days(profiles=candidates, start=start, end=end, now=now)
    return [pk for pk, day in days.items() if day.free_slots(start, end, duration, limit=1)]


class _CeilQuarter(Func):
    """An instant rounded up to a UTC quarter hour (core.availability.ceil_quarter)."""

    template = "to_timestamp(ceil(extract(epoch from %(expressions)s) / 900) * 900)"
    output_field = models.DateTimeField()


def counselor_free_filter(
    *,
    profiles: QuerySet[CounselorProfile],
    start: dt.datetime,
    end: dt.datetime,
    duration_minutes: int = 15,
    now: dt.datetime | None = None,
) -> Q:
    """A filter of `profiles` to the counselors with a free slot of `duration_minutes`
    starting in [start, end): the same answer as counselor_ids_with_free_slots, as the ids
    themselves. Counselors whose precomputed free time is current
    (counselors.models.FreeTimeState) are answered by one probe of their FreeTime rows; the
    others, usually none or a few changed in the last seconds, are computed live (two more
    queries when there are any). One query answers every candidate here, so the
    paginator's count and its page filter a list of ids instead of each repeating the probe
    (and its planning, which cost more than running it: issue 17's profile)."""
    now = now or timezone.now()
    duration = dt.timedelta(minutes=duration_minutes)
    current = Q(
        free_time_state__stale=False,
        free_time_state__timezone=F("user__timezone"),
        free_time_state__daily_cap=F("daily_cap"),
        free_time_state__buffer_minutes=F("buffer_minutes"),
        free_time_state__covers_until__gte=end,
    )
    earliest = ExpressionWrapper(
        Value(now) + OuterRef("min_notice_minutes") * Value(dt.timedelta(minutes=1)),
        output_field=models.DateTimeField(),
    )
    # The first slot start a span offers is its first quarter hour at or after the span's,
    # the range's and the notice's start; if that one does not fit, no later one does.
    probe = (
        FreeTime.objects.filter(
            counselor_id=OuterRef("pk"), starts_until__gt=start, starts_from__lt=end
        )
        .annotate(first=_CeilQuarter(Greatest("starts_from", Value(start), earliest)))
        .filter(
            Q(first__lt=end),
            Q(first__lt=F("starts_until")),
            Q(free_until__gte=F("first") + duration),
        )
    )
    rows = list(
        profiles.prefetch_related(None)
        .order_by()
        .annotate(
            is_current=ExpressionWrapper(current, output_field=models.BooleanField()),
            has_free=Exists(probe),
        )
        .values_list("pk", "is_current", "has_free")
    )
    # is_current is NULL for a counselor with no FreeTimeState row yet: computed live too.
    ids = [pk for pk, is_current, has_free in rows if is_current and has_free]
    stale = [pk for pk, is_current, _ in rows if not is_current]
    if stale:
        ids += counselor_ids_with_free_slots(
            profiles=profiles.filter(pk__in=stale),
            start=start,
            end=end,
            duration_minutes=duration_minutes,
            now=now,
        )
    return Q(pk__in=ids)


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
    """Completed sessions in [start, end), and what the counselor earned in it: the ledger's
    total (billing), after the platform fee, including paid late cancellations and client
    no-shows, net of staff reversals."""
    totals = Booking.objects.filter(
        counselor_id=user.pk, status=Booking.Status.COMPLETED, start__gte=start, start__lt=end
    ).aggregate(sessions=Count("pk"), minutes=Sum("duration_minutes"))
    return {
        "start": start,
        "sessions": totals["sessions"],
        "minutes": totals["minutes"] or 0,
        "total": counselor_earned_between(counselor_id=user.pk, start=start, end=end),
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


# --- Time off: the sessions already booked inside it -----------------------------------------------


def time_off_bounds(time_off: TimeOff, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants a time-off range begins and ends (local midnights in zone `tz`)."""
    (interval,) = days_off_intervals(
        [(time_off.start_date, time_off.end_date)],
        tz,
        dt.datetime.min.replace(tzinfo=dt.UTC),
        dt.datetime.max.replace(tzinfo=dt.UTC),
    )
    return interval


def time_off_sessions(
    *, counselor: CounselorProfile, ranges: list[TimeOff], now: dt.datetime | None = None
) -> dict[int, list[Booking]]:
    """For each of the counselor's time-off ranges (by id), the confirmed sessions not yet
    over that overlap it, soonest first: the counselor keeps or cancels each (they are never
    cancelled for them). One query for all the ranges."""
    now = now or timezone.now()
    tz = counselor.user.timezone
    bounds = {r.pk: time_off_bounds(r, tz) for r in ranges}
    out: dict[int, list[Booking]] = {pk: [] for pk in bounds}
    if not bounds:
        return out
    lo = min(s for s, _e in bounds.values())
    hi = max(e for _s, e in bounds.values())
    sessions = (
        Booking.objects.filter(
            counselor_id=counselor.pk,
            status=Booking.Status.CONFIRMED,
            start__lt=hi,
            end__gt=max(lo, now),
        )
        .select_related("client")
        .order_by("start", "pk")
    )
    for booking in sessions:
        for pk, (s, e) in bounds.items():
            if booking.start < e and booking.end > s:
                out[pk].append(booking)
    return out


# --- "My counselors": the counselors a client has met ---------------------------------------------

MY_COUNSELOR_SLOTS = 3
MY_COUNSELOR_SLOT_DAYS = 14
MY_COUNSELOR_SLOT_MINUTES = 30


class MetCounselor(NamedTuple):
    profile: CounselorProfile
    last_session: dt.datetime
    next_slots: list[tuple[dt.datetime, dt.datetime]]
    bookable: bool
    preferred: bool
    notify_new_windows: bool
    history_shared: bool
    history_shared_since: dt.datetime | None


def _met_bookings(*, client, now: dt.datetime) -> QuerySet[Booking]:
    """The client's bookings that count as having met the counselor: completed, or started
    and not cancelled (a no-show still counts: they had a session booked and held)."""
    return Booking.objects.filter(client=client).filter(
        Q(status=Booking.Status.COMPLETED)
        | (Q(start__lt=now) & ~Q(status=Booking.Status.CANCELLED))
    )


def counselor_ids_met_by(*, client, now: dt.datetime | None = None) -> set[int]:
    """The ids of the counselors `client` has met (see _met_bookings): "my counselors", and
    talk-now's "your previous counselor is on duty"."""
    return set(
        _met_bookings(client=client, now=now or timezone.now())
        .order_by()
        .values_list("counselor_id", flat=True)
    )


def met_counselor_get(
    *, client, counselor_id: int, now: dt.datetime | None = None
) -> CounselorProfile:
    """The counselor if `client` has met them (see _met_bookings); otherwise
    CounselorProfile.DoesNotExist (a 404: whether the counselor exists is not the point)."""
    now = now or timezone.now()
    if not _met_bookings(client=client, now=now).filter(counselor_id=counselor_id).exists():
        raise CounselorProfile.DoesNotExist
    return CounselorProfile.objects.select_related("user").get(pk=counselor_id)


def my_counselors_for_client(*, client, now: dt.datetime | None = None) -> list[MetCounselor]:
    """The counselors `client` has met, preferred ones first, then the most recently seen:
    the last session, the next free 30-minute slots (listed counselors only), the preference,
    the notice opt-in and whether the client shares their history with them. Five queries."""
    now = now or timezone.now()
    last = dict(
        _met_bookings(client=client, now=now)
        .order_by()
        .values("counselor_id")
        .annotate(last=models.Max("start"))
        .values_list("counselor_id", "last")
    )
    if not last:
        return []
    profiles = list(CounselorProfile.objects.filter(pk__in=last).select_related("user"))
    prefs = {
        p.counselor_id: p
        for p in PreferredCounselor.objects.filter(client=client, counselor_id__in=last)
    }
    shares = dict(
        HistoryShare.objects.filter(
            client=client, counselor_id__in=last, withdrawn_at__isnull=True
        ).values_list("counselor_id", "granted_at")
    )
    listed = [p for p in profiles if p.is_listed]
    end = now + dt.timedelta(days=MY_COUNSELOR_SLOT_DAYS)
    days = (
        counselor_days(profiles=[CounselorRules.of(p) for p in listed], start=now, end=end, now=now)
        if listed
        else {}
    )
    duration = dt.timedelta(minutes=MY_COUNSELOR_SLOT_MINUTES)
    rows = []
    for p in profiles:
        pref = prefs.get(p.pk)
        day = days.get(p.pk)
        rows.append(
            MetCounselor(
                profile=p,
                last_session=last[p.pk],
                next_slots=day.free_slots(now, end, duration, limit=MY_COUNSELOR_SLOTS)
                if day
                else [],
                bookable=p.is_listed,
                preferred=pref is not None,
                notify_new_windows=bool(pref and pref.notify_new_windows),
                history_shared=p.pk in shares,
                history_shared_since=shares.get(p.pk),
            )
        )
    rows.sort(key=lambda r: (not r.preferred, -r.last_session.timestamp()))
    return rows


# --- A counselor's view of a client's earlier sessions with them (with the client's consent) ------


class HistoryItem(NamedTuple):
    booking_id: int
    start: dt.datetime
    duration_minutes: int
    mode: str
    topic: str
    status: str
    note: str

    @property
    def mode_label(self) -> str:
        return SessionMode(self.mode).label

    @property
    def status_label(self) -> str:
        return Booking.Status(self.status).label


class ClientHistory(NamedTuple):
    shared: bool
    shared_since: dt.datetime | None
    sessions: list[HistoryItem]


def client_history_for_counselor(
    *, counselor, client_id: int, before: dt.datetime | None = None
) -> ClientHistory:
    """The counselor's OWN earlier sessions with the client (started before `before`, default
    now; cancelled ones left out), newest first, each with the counselor's own private notes
    decrypted: only while the client's consent (a standing HistoryShare for this pair) exists.
    Sessions with any other counselor are never read. No consent: `shared` False, nothing else.
    The caller has checked that `counselor` has a session with this client."""
    before = before or timezone.now()
    share = (
        HistoryShare.objects.filter(
            client_id=client_id, counselor_id=counselor.pk, withdrawn_at__isnull=True
        )
        .only("granted_at")
        .first()
    )
    if share is None:
        return ClientHistory(False, None, [])
    bookings = (
        Booking.objects.filter(client_id=client_id, counselor_id=counselor.pk, start__lt=before)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("counselor_note")
        .order_by("-start", "-pk")
    )
    items = []
    for b in bookings:
        note = getattr(b, "counselor_note", None)
        text = ""
        if note is not None and note.author_id == counselor.pk and note.ciphertext:
            text = decrypt_text(note.ciphertext)
        items.append(
            HistoryItem(b.pk, b.start, b.duration_minutes, b.mode, b.topic, b.status, text)
        )
    return ClientHistory(True, share.granted_at, items)


# Reviews on a counselor's profile: shown only from this many on, so one cannot be traced.
REVIEWS_SHOWN_FROM = 3


def counselor_reviews(*, counselor_id: int, limit: int = 20) -> list[dict]:
    """The written reviews of a counselor's sessions for their public profile, newest first:
    only `rating`, `comment` and `month` ("YYYY-MM", UTC) — no name, booking or finer date, so
    a review cannot be traced to a session. A review is a feedback with a comment; below
    REVIEWS_SHOWN_FROM of them, none is shown ([])."""
    feedbacks = (
        Feedback.objects.filter(booking__counselor_id=counselor_id)
        .exclude(comment__regex=r"^\s*$")
        .order_by("-created_at", "-pk")
    )
    rows = list(
        feedbacks.values("rating", "comment", "created_at")[: max(limit, REVIEWS_SHOWN_FROM)]
    )
    if len(rows) < REVIEWS_SHOWN_FROM:
        return []
    return [
        {
            "rating": r["rating"],
            "comment": r["comment"],
            "month": r["created_at"].astimezone(dt.UTC).strftime("%Y-%m"),
        }
        for r in rows[:limit]
    ]


def offering_for_booking_page(*, counselor_id: int, offering_id) -> Offering | None:
    """The published offering `offering_id` of the counselor, for the booking page to show and
    fix its length; None for anything else (the service refuses a bad one with its reason)."""
    try:
        offering_id = int(offering_id)
    except (TypeError, ValueError):
        return None
    return (
        Offering.objects.filter(
            pk=offering_id, counselor_id=counselor_id, status=Offering.Status.PUBLISHED
        )
        .prefetch_related("items")
        .first()
    )
