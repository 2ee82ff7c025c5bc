"""The directory's precomputed free time (counselors.models.FreeTime, listening.services
.free_time_refresh, listening.selectors.counselor_free_filter) always gives the answer of
the slot computation itself (counselor_ids_with_free_slots): after a refresh, after random
changes that the refresh has not seen yet (the triggers mark those counselors stale and the
filter computes them live), and after the next refresh."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.availability import ceil_quarter
from counselors.models import (
    AvailabilityWindow,
    CounselorEngagement,
    CounselorProfile,
    FreeTime,
    FreeTimeState,
    TimeOff,
)
from listening.models import Booking
from listening.selectors import (
    counselor_days,
    counselor_free_filter,
    counselor_ids_with_free_slots,
    counselor_rules,
)
from listening.services import (
    FREE_TIME_DAYS,
    booking_create,
    free_time_refresh,
    free_time_sweep,
)
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    WeeklyWindowFactory,
)

pytestmark = pytest.mark.django_db

# Zones with DST both ways, a half-hour and a 45-minute offset, and the date line.
ZONES = [
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
# A fixed moment a few days before Europe's and the US's clocks change (2026-10-25 and -11-01),
# at an odd minute, so that notice and range starts fall between quarter hours.
NOW = dt.datetime(2026, 10, 22, 9, 7, 31, tzinfo=dt.UTC)


def _free(ids: list[int], start, end, duration: int) -> tuple[set[int], set[int]]:
    """(the filter's answer, the slot computation's answer) for these counselors."""
    profiles = CounselorProfile.objects.filter(pk__in=ids)
    table = set(
        profiles.filter(
            counselor_free_filter(
                profiles=profiles, start=start, end=end, duration_minutes=duration, now=NOW
            )
        ).values_list("pk", flat=True)
    )
    live = set(
        counselor_ids_with_free_slots(
            profiles=profiles, start=start, end=end, duration_minutes=duration, now=NOW
        )
    )
    return table, live


counselor_st = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "cap": st.integers(1, 4),
        "buffer": st.sampled_from([0, 5, 10, 15]),
        "notice": st.sampled_from([0, 10, 60, 24 * 60]),
        # (weekday, start in quarters after 00:00, length in quarters, window zone or own)
        "weekly": st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 92), st.integers(1, 16), st.booleans()),
            max_size=3,
        ),
        # (quarters after now's quarter, length in quarters)
        "one_offs": st.lists(st.tuples(st.integers(-8, 60), st.integers(1, 24)), max_size=2),
        # (quarters after now's quarter, 15 or 30 minutes, still confirmed); half of them
        # fall in the first days, where the one-off windows are
        "bookings": st.lists(
            st.tuples(
                st.one_of(st.integers(-4, 700), st.integers(0, 60)),
                st.sampled_from([15, 30]),
                st.booleans(),
            ),
            max_size=6,
        ),
        # (days from today, days long)
        "time_off": st.lists(st.tuples(st.integers(0, 10), st.integers(0, 2)), max_size=1),
        "engagements": st.lists(st.tuples(st.integers(0, 700), st.integers(2, 4)), max_size=1),
    }
)
change_st = st.tuples(
    st.integers(0, 2),  # which counselor
    st.sampled_from(
        ["book", "cancel", "drop_window", "time_off", "cap", "buffer", "zone", "engage", "none"]
    ),
    st.integers(0, 700),  # a quarter offset for what the change adds
)
query_st = st.tuples(
    st.one_of(st.integers(-30, 16 * 60), st.integers(-30, 6 * 24 * 60)),  # start, min from now
    st.one_of(st.integers(15, 6 * 60), st.integers(15, 3 * 24 * 60)),  # range length, minutes
    st.sampled_from([15, 30]),
)
QUARTER0 = NOW.replace(minute=0, second=0)


def _at(quarters: int) -> dt.datetime:
    return QUARTER0 + dt.timedelta(minutes=15 * quarters)


def _book(profile, start: dt.datetime, minutes: int, status: str) -> None:
    """A booking, unless it would overlap one of the counselor's (the exclusion constraint)."""
    end = start + dt.timedelta(minutes=minutes)
    if not Booking.objects.filter(counselor=profile, start__lt=end, end__gt=start).exists():
        BookingFactory(counselor=profile, start=start, duration_minutes=minutes, status=status)


def _build(spec: dict) -> CounselorProfile:
    profile = CounselorProfileFactory(
        user__timezone=spec["zone"],
        daily_cap=spec["cap"],
        buffer_minutes=spec["buffer"],
        min_notice_minutes=spec["notice"],
    )
    today = NOW.astimezone(ZoneInfo(spec["zone"])).date()
    for weekday, start_q, length_q, own_zone in spec["weekly"]:
        start = dt.datetime.combine(today, dt.time()) + dt.timedelta(minutes=15 * start_q)
        end = start + dt.timedelta(minutes=15 * length_q)
        end_time = dt.time() if end.date() > today else end.time()
        if end.date() > today and end.time() != dt.time():
            continue  # a weekly window ends by midnight
        WeeklyWindowFactory(
            counselor=profile,
            weekday=weekday,
            start_time=start.time(),
            end_time=end_time,
            timezone=spec["zone"] if own_zone else "Europe/Berlin",
            valid_from=today - dt.timedelta(days=1),
        )
    for offset, length in spec["one_offs"]:
        OneOffWindowFactory(
            counselor=profile,
            start=_at(offset),
            end=_at(offset) + dt.timedelta(minutes=15 * length),
        )
    for offset, minutes, confirmed in spec["bookings"]:
        _book(
            profile,
            _at(offset),
            minutes,
            Booking.Status.CONFIRMED if confirmed else Booking.Status.CANCELLED,
        )
    for days, length in spec["time_off"]:
        TimeOff.objects.create(
            counselor=profile,
            start_date=today + dt.timedelta(days=days),
            end_date=today + dt.timedelta(days=days + length),
        )
    for n, (offset, length) in enumerate(spec["engagements"]):
        CounselorEngagement.objects.create(
            counselor=profile,
            start=_at(offset),
            end=_at(offset + length),
            reference=f"test:{profile.pk}:{n}",
        )
    return profile


def _change(profile: CounselorProfile, kind: str, offset: int) -> None:
    if kind == "book":
        _book(profile, _at(offset), 30, Booking.Status.CONFIRMED)
    elif kind == "cancel":
        Booking.objects.filter(counselor=profile, status=Booking.Status.CONFIRMED).update(
            status=Booking.Status.CANCELLED
        )
    elif kind == "drop_window":
        AvailabilityWindow.objects.filter(
            pk__in=AvailabilityWindow.objects.filter(counselor=profile).values("pk")[:1]
        ).delete()
    elif kind == "time_off":
        day = _at(offset).astimezone(ZoneInfo(profile.user.timezone)).date()
        TimeOff.objects.create(counselor=profile, start_date=day, end_date=day)
    elif kind == "cap":
        CounselorProfile.objects.filter(pk=profile.pk).update(daily_cap=1)
    elif kind == "buffer":
        CounselorProfile.objects.filter(pk=profile.pk).update(buffer_minutes=30)
    elif kind == "zone":
        profile.user.timezone = "America/New_York"
        profile.user.save(update_fields=["timezone"])
    elif kind == "engage":
        CounselorEngagement.objects.create(
            counselor=profile,
            start=_at(offset),
            end=_at(offset + 3),
            reference=f"change:{profile.pk}:{offset}",
        )


def _slot_mismatches(ids) -> list[str]:
    """Every slot start the rows offer over the first eight days against the slot computation's
    list, counselor by counselor, for both lengths (the rows themselves, not only the probe)."""
    start, end = NOW, NOW + dt.timedelta(days=8)
    found = []
    rules = counselor_rules(profiles=CounselorProfile.objects.filter(pk__in=ids))
    days = counselor_days(profiles=rules, start=start, end=end, now=NOW)
    for r in rules:
        earliest = NOW + dt.timedelta(minutes=r.min_notice_minutes)
        for minutes in (15, 30):
            duration = dt.timedelta(minutes=minutes)
            expected = {s for s, _ in days[r.pk].free_slots(start, end, duration)}
            offered = set()
            for row in FreeTime.objects.filter(counselor_id=r.pk):
                t = ceil_quarter(max(row.starts_from, start, earliest))
                while t < min(row.starts_until, end) and t + duration <= row.free_until:
                    offered.add(t)
                    t += dt.timedelta(minutes=15)
            if offered != expected:
                found.append(
                    f"{r.pk} {minutes} min: rows only {sorted(offered - expected)[:3]}, "
                    f"computation only {sorted(expected - offered)[:3]}"
                )
    return found


def _disagreements(ids, queries) -> list[str]:
    found = []
    for start_min, length_min, duration in queries:
        start = NOW + dt.timedelta(minutes=start_min)
        end = start + dt.timedelta(minutes=length_min)
        table, live = _free(ids, start, end, duration)
        if table != live:
            found.append(f"[{start}, {end}) {duration} min: table {table}, live {live}")
    return found


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    specs=st.lists(counselor_st, min_size=3, max_size=3),
    changes=st.lists(change_st, max_size=4),
    queries=st.lists(query_st, min_size=1, max_size=6),
)
def test_the_precomputed_free_time_agrees_with_the_slot_computation(specs, changes, queries):
    with transaction.atomic():
        savepoint = transaction.savepoint()
        try:
            profiles = [_build(spec) for spec in specs]
            ids = [p.pk for p in profiles]
            assert sorted(free_time_refresh(counselor_ids=ids, now=NOW)) == sorted(ids)
            assert not FreeTimeState.objects.filter(counselor_id__in=ids, stale=True).exists()
            assert not _slot_mismatches(ids), "the rows after a refresh"
            assert not _disagreements(ids, queries), "after a refresh"
            for which, kind, offset in changes:
                _change(profiles[which], kind, offset)
            assert not _disagreements(ids, queries), "after changes the refresh has not seen"
            free_time_refresh(counselor_ids=ids, now=NOW)
            assert not _slot_mismatches(ids), "the rows after the next refresh"
            assert not _disagreements(ids, queries), "after the next refresh"
        finally:
            transaction.savepoint_rollback(savepoint)


def _state(profile) -> FreeTimeState:
    return FreeTimeState.objects.get(counselor=profile)


@pytest.fixture
def refreshed():
    profile = CounselorProfileFactory()
    for weekday in range(7):
        WeeklyWindowFactory(
            counselor=profile, weekday=weekday, valid_from=NOW.date() - dt.timedelta(days=1)
        )
    booking = BookingFactory(counselor=profile, start=_at(100))
    free_time_refresh(counselor_ids=[profile.pk], now=NOW)
    assert not _state(profile).stale
    return profile, booking


@pytest.mark.parametrize(
    "change",
    [
        lambda p, b: BookingFactory(counselor=p, start=_at(200)),
        lambda p, b: Booking.objects.filter(pk=b.pk).update(status=Booking.Status.CANCELLED),
        lambda p, b: Booking.objects.filter(pk=b.pk).update(start=_at(99), end=_at(101)),
        lambda p, b: Booking.objects.filter(pk=b.pk).delete(),
        lambda p, b: OneOffWindowFactory(counselor=p),
        lambda p, b: AvailabilityWindow.objects.filter(counselor=p).update(end_time=dt.time(22)),
        lambda p, b: AvailabilityWindow.objects.filter(counselor=p).delete(),
        lambda p, b: TimeOff.objects.create(
            counselor=p, start_date=NOW.date(), end_date=NOW.date()
        ),
        lambda p, b: CounselorEngagement.objects.create(
            counselor=p, start=_at(300), end=_at(302), reference="group:1"
        ),
    ],
    ids=[
        "booked",
        "cancelled",
        "moved",
        "deleted",
        "window-added",
        "window-changed",
        "window-deleted",
        "time-off",
        "engagement",
    ],
)
def test_a_change_marks_the_counselors_free_time_stale_in_its_transaction(refreshed, change):
    profile, booking = refreshed
    change(profile, booking)
    assert _state(profile).stale


def test_a_chat_line_does_not_touch_the_free_time_state(refreshed):
    profile, booking = refreshed
    Booking.objects.filter(pk=booking.pk).update(message_seq=5)
    assert not _state(profile).stale


def test_a_profile_edit_takes_the_counselor_off_the_table_until_the_refresh(refreshed):
    profile, _ = refreshed
    CounselorProfile.objects.filter(pk=profile.pk).update(daily_cap=1)
    profiles = CounselorProfile.objects.filter(pk=profile.pk)
    start, end = NOW, NOW + dt.timedelta(days=7)
    # The filter's live part now answers for them: their state's copy of the cap is old.
    with connection.cursor():
        q = counselor_free_filter(profiles=profiles, start=start, end=end, now=NOW)
    assert set(profiles.filter(q).values_list("pk", flat=True)) == set(
        counselor_ids_with_free_slots(profiles=profiles, start=start, end=end, now=NOW)
    )
    free_time_refresh(counselor_ids=[profile.pk], now=NOW)
    assert _state(profile).daily_cap == 1


def test_a_range_past_the_horizon_is_computed_live(refreshed):
    profile, _ = refreshed
    profiles = CounselorProfile.objects.filter(pk=profile.pk)
    start = NOW + dt.timedelta(days=FREE_TIME_DAYS - 1)
    end = start + dt.timedelta(days=3)
    table = set(
        profiles.filter(
            counselor_free_filter(profiles=profiles, start=start, end=end, now=NOW)
        ).values_list("pk", flat=True)
    )
    assert table == {profile.pk}


def test_a_full_day_has_no_free_time_rows():
    profile = CounselorProfileFactory(daily_cap=1, user__timezone="Asia/Shanghai")
    day = (NOW + dt.timedelta(days=2)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    start = dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo("Asia/Shanghai"))
    OneOffWindowFactory(counselor=profile, start=start, end=start + dt.timedelta(hours=4))
    BookingFactory(counselor=profile, start=start)
    free_time_refresh(counselor_ids=[profile.pk], now=NOW)
    assert not FreeTime.objects.filter(counselor=profile, local_date=day).exists()


def test_the_sweep_fills_new_counselors_and_skips_current_ones():
    first, second = CounselorProfileFactory(), CounselorProfileFactory()
    assert free_time_sweep(now=NOW) >= 2
    assert not FreeTimeState.objects.filter(counselor__in=[first, second], stale=True).exists()
    assert free_time_sweep(now=NOW) == 0
    OneOffWindowFactory(counselor=first)
    assert free_time_sweep(now=NOW) == 1


def test_the_sweep_renews_a_horizon_about_to_run_out():
    profile = CounselorProfileFactory()
    free_time_sweep(now=NOW)
    later = NOW + dt.timedelta(days=2)
    assert free_time_sweep(now=later) == 1
    assert _state(profile).covers_until == later + dt.timedelta(days=FREE_TIME_DAYS)


def _waits_on_a_lock(pid: int) -> bool:
    # pg_locks is read live (pg_stat_activity would be a snapshot inside the transaction).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_booking_does_not_deadlock_with_a_refresh_of_the_counselors_free_time():
    """The refresh holds the counselor's FreeTimeState row and inserts FreeTime rows, whose
    foreign-key check runs at its commit (FOR KEY SHARE on the profile); the booking holds
    the profile row and its trigger waits for the FreeTimeState row. The profile lock is FOR
    NO KEY UPDATE, so the refresh commits and the booking goes through after it (with FOR
    UPDATE, PostgreSQL found a deadlock here and one of the two failed)."""
    counselor = CounselorProfileFactory()
    window = OneOffWindowFactory(counselor=counselor)
    client = ClientFactory()
    free_time_refresh(counselor_ids=[counselor.pk])
    booking_pid: list[int] = []
    errors: list[BaseException] = []
    started = threading.Event()

    def refresh():
        try:
            with transaction.atomic():
                assert free_time_refresh(counselor_ids=[counselor.pk]) == [counselor.pk]
                started.set()
                deadline = time.monotonic() + 20
                while not (booking_pid and _waits_on_a_lock(booking_pid[0])):
                    assert time.monotonic() < deadline, "the booking never waited"
                    time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def book():
        try:
            started.wait(20)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                booking_pid.append(cursor.fetchone()[0])
            booking_create(
                client=client,
                counselor_id=counselor.pk,
                start=window.start,
                duration_minutes=30,
                mode="text",
                topic="stress",
            )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh), threading.Thread(target=book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert Booking.objects.filter(counselor=counselor, client=client).count() == 1
    assert _state(counselor).stale  # the booking came after the refresh, so it marked it
