"""The session clock: the warning in the last two minutes, the end, and the no-show check.

First the services, with the clock stopped at chosen instants (time-machine); then the whole
path with a real Celery worker on Redis: the beat's tick dispatches eta tasks, the worker
runs them and the frames reach a socket in the room. Nothing here waits for a real session."""

import datetime as dt

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.core import mail
from django.utils import timezone

from core import realtime
from listening import services
from listening.models import Booking
from listening.tasks import CLOCK_LOOKAHEAD, session_clock_tick
from tests.factories import BookingFactory
from tests.listening.test_room_consumer import sockets  # the fixture

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, 17:00 in Shanghai


def booking_from(start: dt.datetime, minutes: int = 30, **kwargs) -> Booking:
    return BookingFactory(
        start=start, end=start + dt.timedelta(minutes=minutes), duration_minutes=minutes, **kwargs
    )


@pytest.fixture
def frames(monkeypatch):
    """Every frame the services send to a room, as (booking_id, frame)."""
    sent = []

    def record(group, event):
        if group.startswith("session."):
            sent.append((int(group.split(".")[1]), event["frame"]))

    monkeypatch.setattr(realtime, "group_send", record)
    return sent


def at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def fresh(booking: Booking) -> Booking:
    return Booking.objects.get(pk=booking.pk)


# --- session_warn -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_warning_is_not_sent_before_the_last_two_minutes(frames):
    booking = booking_from(T0)
    with at(booking.end - dt.timedelta(minutes=3)):
        assert services.session_warn(booking_id=booking.pk) is False
    assert fresh(booking).warning_sent_at is None
    assert frames == []


@pytest.mark.django_db
def test_warning_is_sent_in_the_last_two_minutes_with_the_time_left(frames):
    booking = booking_from(T0)
    with at(booking.end - dt.timedelta(seconds=90)):
        assert services.session_warn(booking_id=booking.pk) is True
    assert frames == [
        (
            booking.pk,
            {"type": "session.warning", "remaining_seconds": 90, "end": booking.end.isoformat()},
        )
    ]
    assert fresh(booking).warning_sent_at == booking.end - dt.timedelta(seconds=90)


@pytest.mark.django_db
def test_warning_is_sent_only_once(frames):
    booking = booking_from(T0)
    with at(booking.end - dt.timedelta(seconds=119)):
        assert services.session_warn(booking_id=booking.pk) is True
        assert services.session_warn(booking_id=booking.pk) is False
    with at(booking.end - dt.timedelta(seconds=30)):
        assert services.session_warn(booking_id=booking.pk) is False
    assert [f["type"] for _, f in frames] == ["session.warning"]


@pytest.mark.django_db
def test_warning_is_not_sent_at_or_after_the_end(frames):
    booking = booking_from(T0)
    for moment in (booking.end, booking.end + dt.timedelta(minutes=1)):
        with at(moment):
            assert services.session_warn(booking_id=booking.pk) is False
    assert frames == []


@pytest.mark.django_db
def test_warning_is_not_sent_for_a_cancelled_booking(frames):
    booking = booking_from(T0, status=Booking.Status.CANCELLED)
    with at(booking.end - dt.timedelta(seconds=60)):
        assert services.session_warn(booking_id=booking.pk) is False
    assert frames == []


# --- session_end ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_session_end_does_nothing_before_the_end(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0)
    with (
        at(booking.end - dt.timedelta(seconds=10)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.session_end(booking_id=booking.pk) is False
    state = fresh(booking)
    assert state.status == Booking.Status.CONFIRMED and state.ended_at is None
    assert frames == []


@pytest.mark.django_db
def test_session_end_at_the_end_completes_the_booking_and_tells_the_room(
    frames, django_capture_on_commit_callbacks
):
    booking = booking_from(T0)
    with at(booking.end), django_capture_on_commit_callbacks(execute=True):
        assert services.session_end(booking_id=booking.pk) is True
    state = fresh(booking)
    assert state.status == Booking.Status.COMPLETED
    assert state.ended_at == booking.end and state.completed_at == booking.end
    assert frames == [(booking.pk, {"type": "session.ended", "status": "completed"})]


@pytest.mark.django_db
def test_session_end_runs_only_once(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0)
    with (
        at(booking.end + dt.timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.session_end(booking_id=booking.pk) is True
        assert services.session_end(booking_id=booking.pk) is False
    with (
        at(booking.end + dt.timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.session_end(booking_id=booking.pk) is False
    assert [f["type"] for _, f in frames] == ["session.ended"]
    assert fresh(booking).ended_at == booking.end + dt.timedelta(seconds=1)


@pytest.mark.django_db
def test_session_end_of_a_no_show_keeps_the_no_show(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0, status=Booking.Status.NO_SHOW, no_show_party=Booking.Party.CLIENT)
    with at(booking.end), django_capture_on_commit_callbacks(execute=True):
        assert services.session_end(booking_id=booking.pk) is True
    state = fresh(booking)
    assert state.status == Booking.Status.NO_SHOW and state.ended_at == booking.end
    assert frames == [(booking.pk, {"type": "session.ended", "status": "no_show"})]


@pytest.mark.django_db
def test_session_end_ignores_a_cancelled_booking(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0, status=Booking.Status.CANCELLED)
    with at(booking.end), django_capture_on_commit_callbacks(execute=True):
        assert services.session_end(booking_id=booking.pk) is False
    assert fresh(booking).status == Booking.Status.CANCELLED and frames == []


# --- session_no_show_check ------------------------------------------------------------------------


def _check_at(booking, moment, capture):
    with at(moment), capture(execute=True):
        return services.session_no_show_check(booking_id=booking.pk)


@pytest.mark.django_db
def test_no_show_is_not_called_before_ten_minutes_after_the_start(
    frames, django_capture_on_commit_callbacks
):
    booking = booking_from(T0)
    assert (
        _check_at(
            booking, T0 + dt.timedelta(minutes=9, seconds=50), django_capture_on_commit_callbacks
        )
        == ""
    )
    state = fresh(booking)
    assert state.status == Booking.Status.CONFIRMED and state.no_show_checked_at is None
    assert frames == []


@pytest.mark.django_db
def test_client_who_never_joined_is_a_client_no_show(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0, counselor_joined_at=T0 - dt.timedelta(minutes=2))
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=10), django_capture_on_commit_callbacks)
        == "client"
    )
    state = fresh(booking)
    assert state.status == Booking.Status.NO_SHOW and state.no_show_party == "client"
    assert frames == [(booking.pk, {"type": "session.no_show", "party": "client"})]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [booking.client.email, booking.counselor.user.email]
    )


@pytest.mark.django_db
def test_counselor_who_never_joined_is_a_counselor_no_show(
    frames, django_capture_on_commit_callbacks
):
    booking = booking_from(T0, client_joined_at=T0 + dt.timedelta(minutes=1))
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=10), django_capture_on_commit_callbacks)
        == "counselor"
    )
    state = fresh(booking)
    assert state.status == Booking.Status.NO_SHOW and state.no_show_party == "counselor"
    assert frames == [(booking.pk, {"type": "session.no_show", "party": "counselor"})]


@pytest.mark.django_db
def test_nobody_joining_is_a_no_show_of_both(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0)
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=11), django_capture_on_commit_callbacks)
        == "both"
    )
    state = fresh(booking)
    assert state.status == Booking.Status.NO_SHOW and state.no_show_party == "both"
    assert frames == [(booking.pk, {"type": "session.no_show", "party": "both"})]


@pytest.mark.django_db
def test_both_joining_is_no_no_show(frames, django_capture_on_commit_callbacks):
    booking = booking_from(
        T0, client_joined_at=T0 + dt.timedelta(minutes=9), counselor_joined_at=T0
    )
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=10), django_capture_on_commit_callbacks) == ""
    )
    state = fresh(booking)
    assert state.status == Booking.Status.CONFIRMED and state.no_show_party == ""
    assert state.no_show_checked_at == T0 + dt.timedelta(minutes=10)
    assert frames == [] and mail.outbox == []


@pytest.mark.django_db
def test_no_show_check_runs_only_once(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0, counselor_joined_at=T0)
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=10), django_capture_on_commit_callbacks)
        == "client"
    )
    # A late arrival afterwards changes nothing, and a repeated check reports nothing new.
    Booking.objects.filter(pk=booking.pk).update(client_joined_at=T0 + dt.timedelta(minutes=12))
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=13), django_capture_on_commit_callbacks) == ""
    )
    state = fresh(booking)
    assert state.status == Booking.Status.NO_SHOW and state.no_show_party == "client"
    assert len(frames) == 1 and len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_late_client_who_came_is_not_a_no_show(frames, django_capture_on_commit_callbacks):
    booking = booking_from(T0, counselor_joined_at=T0)
    Booking.objects.filter(pk=booking.pk).update(
        client_joined_at=T0 + dt.timedelta(minutes=9, seconds=59)
    )
    assert (
        _check_at(booking, T0 + dt.timedelta(minutes=10), django_capture_on_commit_callbacks) == ""
    )
    assert fresh(booking).status == Booking.Status.CONFIRMED


# --- session_clock_due ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clock_due_lists_upcoming_and_overdue_events_only():
    now = T0
    both = {
        "client_joined_at": T0 - dt.timedelta(hours=1),
        "counselor_joined_at": T0 - dt.timedelta(hours=1),
    }
    # Warning due in 10 s (end in 2 min 10 s); its no-show check is long overdue.
    warn_soon = booking_from(now + dt.timedelta(seconds=130) - dt.timedelta(minutes=30))
    # Warning overdue (in its last minute, never warned).
    warn_late = booking_from(
        now + dt.timedelta(seconds=60) - dt.timedelta(minutes=30), no_show_checked_at=now, **both
    )
    # End overdue by five minutes (its task was lost).
    end_late = booking_from(
        now - dt.timedelta(minutes=35),
        warning_sent_at=now - dt.timedelta(minutes=7),
        no_show_checked_at=now - dt.timedelta(minutes=20),
        **both,
    )
    # A no-show that stays no-show still gets its end.
    no_show_end = booking_from(
        now - dt.timedelta(minutes=30, seconds=-20),
        status=Booking.Status.NO_SHOW,
        no_show_checked_at=now - dt.timedelta(minutes=20),
    )
    # No-show check due in 20 s.
    no_show_soon = booking_from(now - dt.timedelta(minutes=10, seconds=-20))
    # Nothing due: far away, already handled, or cancelled.
    booking_from(now + dt.timedelta(hours=2))
    booking_from(now - dt.timedelta(minutes=25), warning_sent_at=now, no_show_checked_at=now)
    booking_from(
        now - dt.timedelta(hours=2),
        status=Booking.Status.COMPLETED,
        ended_at=now - dt.timedelta(hours=1),
        warning_sent_at=now,
        no_show_checked_at=now,
    )
    booking_from(now - dt.timedelta(minutes=29), status=Booking.Status.CANCELLED)

    due = services.session_clock_due(now=now, lookahead=CLOCK_LOOKAHEAD)

    assert sorted(due) == sorted(
        [
            ("warn", warn_soon.pk, warn_soon.end - dt.timedelta(minutes=2)),
            ("no_show", warn_soon.pk, warn_soon.start + dt.timedelta(minutes=10)),
            ("warn", warn_late.pk, warn_late.end - dt.timedelta(minutes=2)),
            ("end", end_late.pk, end_late.end),
            ("end", no_show_end.pk, no_show_end.end),
            ("no_show", no_show_soon.pk, no_show_soon.start + dt.timedelta(minutes=10)),
        ]
    )


@pytest.mark.django_db
def test_tick_runs_due_events_through_eager_tasks(frames):
    """Overdue events run at once (here eagerly): a missed end and a missed warning."""
    now = timezone.now().replace(microsecond=0)
    long_ago = now - dt.timedelta(minutes=40)
    joined = {"client_joined_at": long_ago, "counselor_joined_at": long_ago}
    overdue_end = booking_from(
        now - dt.timedelta(minutes=31),
        warning_sent_at=now - dt.timedelta(minutes=3),
        no_show_checked_at=now - dt.timedelta(minutes=21),
        **joined,
    )
    assert session_clock_tick() == 1
    state = fresh(overdue_end)
    assert state.status == Booking.Status.COMPLETED and state.ended_at is not None


# --- With a real Celery worker on Redis -------------------------------------------------------------

db = database_sync_to_async


def _ending_in(seconds: float) -> Booking:
    """A confirmed 30-minute session ending `seconds` from now, both sides already joined
    (so its overdue no-show check finds nobody missing)."""
    end = timezone.now() + dt.timedelta(seconds=seconds)
    start = end - dt.timedelta(minutes=30)
    return BookingFactory(start=start, end=end, client_joined_at=start, counselor_joined_at=start)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_worker_sends_the_warning_two_minutes_before_the_end(celery_worker_on_redis, sockets):
    booking = await db(_ending_in)(123)
    client = await sockets.join(booking.client, booking.pk)
    assert await db(session_clock_tick)() >= 1  # dispatches the warning as an eta task (about 3 s)
    frame = await client.receive_json_from(timeout=10)
    assert frame["type"] == "session.warning"
    assert 110 <= frame["remaining_seconds"] <= 122
    assert (await db(Booking.objects.get)(pk=booking.pk)).warning_sent_at is not None


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_worker_ends_the_session_and_completes_the_booking(celery_worker_on_redis, sockets):
    booking = await db(_ending_in)(4)
    client = await sockets.join(booking.client, booking.pk)
    counselor = await sockets.join(booking.counselor.user, booking.pk)
    await db(session_clock_tick)()
    for side in (client, counselor):
        seen = []
        while not seen or seen[-1]["type"] != "session.ended":
            seen.append(await side.receive_json_from(timeout=10))
        assert [f["type"] for f in seen if f["type"].startswith("session.")] == [
            "session.warning",
            "session.ended",
        ]
        assert seen[-1] == {"type": "session.ended", "status": "completed"}
        out = await side.receive_output(timeout=5)
        assert out["type"] == "websocket.close"
    state = await db(Booking.objects.get)(pk=booking.pk)
    assert (
        state.status == Booking.Status.COMPLETED
        and state.ended_at >= booking.end - services.CLOCK_SLACK
    )


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_two_ticks_produce_one_warning(celery_worker_on_redis, sockets):
    booking = await db(_ending_in)(122)
    client = await sockets.join(booking.client, booking.pk)
    assert await db(session_clock_tick)() >= 1
    assert await db(session_clock_tick)() >= 1  # the same warning dispatched twice
    frame = await client.receive_json_from(timeout=10)
    assert frame["type"] == "session.warning"
    assert await client.receive_nothing(timeout=2)  # the copy ran and claimed nothing


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_worker_records_a_client_no_show_and_tells_the_room(celery_worker_on_redis, sockets):
    start = timezone.now() - dt.timedelta(minutes=10) + dt.timedelta(seconds=2)
    booking = await db(booking_from)(start)
    counselor = await sockets.join(booking.counselor.user, booking.pk)
    await db(session_clock_tick)()  # the no-show check falls due in about 2 s
    frame = await counselor.receive_json_from(timeout=10)
    assert frame == {"type": "session.no_show", "party": "client"}
    state = await db(Booking.objects.get)(pk=booking.pk)
    assert state.status == Booking.Status.NO_SHOW and state.no_show_party == "client"
