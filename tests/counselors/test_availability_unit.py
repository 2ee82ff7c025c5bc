"""Pure tests of core/availability.py: plain values in, plain values out, no database."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from core.availability import (
    CounselorDay,
    WeeklyRule,
    ceil_quarter,
    contains,
    is_quarter_hour,
    merge,
    weekly_occurrences,
    window_intervals,
)

UTC = dt.UTC
M15 = dt.timedelta(minutes=15)
M30 = dt.timedelta(minutes=30)
H = dt.timedelta(hours=1)


def t(day, hour, minute=0):
    """2030-01-`day` at hour:minute UTC (January: no DST anywhere in the north)."""
    return dt.datetime(2030, 1, day, hour, minute, tzinfo=UTC)


def rule(
    weekday=4,
    start=(20, 0),
    end=(21, 0),
    tz="Europe/Berlin",
    valid_from=dt.date(2020, 1, 1),
    valid_until=None,
):
    return WeeklyRule(weekday, dt.time(*start), dt.time(*end), tz, valid_from, valid_until)


def day_of(windows, busy=(), cap=8, buffer=0, earliest=None, tz="UTC"):
    busy = sorted(busy)
    return CounselorDay(
        timezone=tz,
        daily_cap=cap,
        buffer=dt.timedelta(minutes=buffer),
        earliest=earliest or t(1, 0),
        windows=merge(windows),
        busy=busy,
        day_counts=Counter(s.astimezone(ZoneInfo(tz)).date() for s, _e in busy),
    )


# --- merge --------------------------------------------------------------------------------------


def test_merge_of_nothing_is_nothing():
    assert merge([]) == []


def test_merge_joins_overlapping_intervals():
    assert merge([(t(7, 9), t(7, 11)), (t(7, 10), t(7, 12))]) == [(t(7, 9), t(7, 12))]


def test_merge_joins_touching_intervals():
    assert merge([(t(7, 9), t(7, 10)), (t(7, 10), t(7, 11))]) == [(t(7, 9), t(7, 11))]


def test_merge_keeps_separate_intervals_apart():
    assert merge([(t(7, 9), t(7, 10)), (t(7, 10, 15), t(7, 11))]) == [
        (t(7, 9), t(7, 10)),
        (t(7, 10, 15), t(7, 11)),
    ]


def test_merge_sorts_its_input():
    assert merge([(t(7, 12), t(7, 13)), (t(7, 9), t(7, 10))]) == [
        (t(7, 9), t(7, 10)),
        (t(7, 12), t(7, 13)),
    ]


def test_merge_absorbs_contained_intervals():
    assert merge([(t(7, 9), t(7, 17)), (t(7, 10), t(7, 11)), (t(7, 12), t(7, 13))]) == [
        (t(7, 9), t(7, 17))
    ]


def test_merge_chains_through_several_intervals():
    assert merge([(t(7, 9), t(7, 10)), (t(7, 11), t(7, 12)), (t(7, 9, 30), t(7, 11, 30))]) == [
        (t(7, 9), t(7, 12))
    ]


def test_merge_drops_duplicates():
    assert merge([(t(7, 9), t(7, 10))] * 3) == [(t(7, 9), t(7, 10))]


def test_merge_compares_instants_not_wall_clocks():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    a = (t(7, 9), t(7, 10))
    b = (t(7, 10).astimezone(shanghai), t(7, 11).astimezone(shanghai))  # 18:00+08:00 = 10:00Z
    assert merge([a, b]) == [(t(7, 9), t(7, 11))]


# --- weekly_occurrences -------------------------------------------------------------------------


def test_weekly_occurrences_in_winter_are_utc_plus_one_for_berlin():
    # 2030-01-04 is a Friday.
    assert list(weekly_occurrences(rule(), t(1, 0), t(8, 0))) == [(t(4, 19), t(4, 20))]


def test_weekly_berlin_window_stays_at_20_local_across_spring_dst():
    # EU clocks go forward on Sunday 2030-03-31; Fridays 03-29 (CET) and 04-05 (CEST).
    start, end = dt.datetime(2030, 3, 25, tzinfo=UTC), dt.datetime(2030, 4, 8, tzinfo=UTC)
    assert list(weekly_occurrences(rule(), start, end)) == [
        (dt.datetime(2030, 3, 29, 19, tzinfo=UTC), dt.datetime(2030, 3, 29, 20, tzinfo=UTC)),
        (dt.datetime(2030, 4, 5, 18, tzinfo=UTC), dt.datetime(2030, 4, 5, 19, tzinfo=UTC)),
    ]


def test_weekly_berlin_window_stays_at_20_local_across_autumn_dst():
    # EU clocks go back on Sunday 2030-10-27; Fridays 10-25 (CEST) and 11-01 (CET).
    start, end = dt.datetime(2030, 10, 21, tzinfo=UTC), dt.datetime(2030, 11, 4, tzinfo=UTC)
    assert list(weekly_occurrences(rule(), start, end)) == [
        (dt.datetime(2030, 10, 25, 18, tzinfo=UTC), dt.datetime(2030, 10, 25, 19, tzinfo=UTC)),
        (dt.datetime(2030, 11, 1, 19, tzinfo=UTC), dt.datetime(2030, 11, 1, 20, tzinfo=UTC)),
    ]


def test_weekly_new_york_window_follows_us_dst_dates():
    # US clocks go forward on 2030-03-10, three weeks before Europe's.
    ny = rule(weekday=0, start=(9, 0), end=(10, 0), tz="America/New_York")
    start, end = dt.datetime(2030, 3, 4, tzinfo=UTC), dt.datetime(2030, 3, 12, tzinfo=UTC)
    assert [s for s, _e in weekly_occurrences(ny, start, end)] == [
        dt.datetime(2030, 3, 4, 14, tzinfo=UTC),
        dt.datetime(2030, 3, 11, 13, tzinfo=UTC),
    ]


def test_weekly_window_crossing_the_spring_gap_is_an_hour_shorter():
    # 01:00-04:00 Berlin on the spring-forward Sunday: 02:00-03:00 does not exist.
    night = rule(weekday=6, start=(1, 0), end=(4, 0))
    start, end = dt.datetime(2030, 3, 30, tzinfo=UTC), dt.datetime(2030, 4, 1, tzinfo=UTC)
    [(s, e)] = weekly_occurrences(night, start, end)
    assert (s, e) == (
        dt.datetime(2030, 3, 31, 0, tzinfo=UTC),
        dt.datetime(2030, 3, 31, 2, tzinfo=UTC),
    )


def test_weekly_occurrences_are_utc():
    [(s, e)] = weekly_occurrences(rule(), t(1, 0), t(8, 0))
    assert s.utcoffset() == dt.timedelta(0) and e.utcoffset() == dt.timedelta(0)


def test_weekly_occurrence_ending_at_midnight_ends_next_day():
    late = rule(weekday=4, start=(22, 0), end=(0, 0), tz="UTC")
    assert list(weekly_occurrences(late, t(1, 0), t(8, 0))) == [(t(4, 22), t(5, 0))]


def test_weekly_occurrence_that_started_before_the_range_is_included():
    assert list(weekly_occurrences(rule(), t(4, 19, 30), t(4, 23))) == [(t(4, 19), t(4, 20))]


def test_weekly_occurrence_ending_when_the_range_starts_is_excluded():
    assert list(weekly_occurrences(rule(), t(4, 20), t(4, 23))) == []


def test_weekly_occurrence_starting_when_the_range_ends_is_excluded():
    assert list(weekly_occurrences(rule(), t(4, 0), t(4, 19))) == []


def test_weekly_occurrence_on_the_previous_local_day_is_found():
    # Auckland's Saturday 08:00 is Friday 19:00 UTC: the local date is a day after the UTC one.
    auckland = rule(
        weekday=5, start=(8, 0), end=(9, 0), tz="Pacific/Auckland"
    )  # NZDT, UTC+13 in January
    assert list(weekly_occurrences(auckland, t(4, 18), t(4, 21))) == [(t(4, 19), t(4, 20))]


def test_weekly_occurrences_repeat_every_seven_days():
    found = list(weekly_occurrences(rule(tz="UTC"), t(1, 0), t(29, 0)))
    assert [s for s, _e in found] == [t(4, 20), t(11, 20), t(18, 20), t(25, 20)]


def test_weekly_occurrences_respect_valid_from():
    found = list(
        weekly_occurrences(rule(tz="UTC", valid_from=dt.date(2030, 1, 5)), t(1, 0), t(15, 0))
    )
    assert [s for s, _e in found] == [t(11, 20)]


def test_weekly_occurrences_include_valid_from_day_itself():
    found = list(
        weekly_occurrences(rule(tz="UTC", valid_from=dt.date(2030, 1, 4)), t(1, 0), t(8, 0))
    )
    assert [s for s, _e in found] == [t(4, 20)]


def test_weekly_occurrences_respect_valid_until_inclusively():
    found = list(
        weekly_occurrences(rule(tz="UTC", valid_until=dt.date(2030, 1, 11)), t(1, 0), t(29, 0))
    )
    assert [s for s, _e in found] == [t(4, 20), t(11, 20)]


def test_window_intervals_merge_one_offs_and_weekly_rules():
    weekly = rule(tz="UTC", start=(20, 0), end=(21, 0))
    one_offs = [(t(4, 20, 30), t(4, 22)), (t(1, 9), t(1, 10))]
    assert window_intervals(one_offs, [weekly], t(3, 0), t(5, 0)) == [(t(4, 20), t(4, 22))]


# --- ceil_quarter, is_quarter_hour --------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ((9, 0, 0), (9, 0)),
        ((9, 0, 1), (9, 15)),
        ((9, 14, 59), (9, 15)),
        ((9, 15, 0), (9, 15)),
        ((9, 46, 0), (10, 0)),
    ],
)
def test_ceil_quarter(given, expected):
    h, m, s = given
    assert ceil_quarter(t(7, h, m).replace(second=s)) == t(7, *expected)


def test_ceil_quarter_rolls_over_midnight():
    assert ceil_quarter(t(7, 23, 50)) == t(8, 0)


def test_ceil_quarter_of_a_microsecond_past_is_the_next_quarter():
    assert ceil_quarter(t(7, 9).replace(microsecond=1)) == t(7, 9, 15)


def test_ceil_quarter_keeps_the_zone():
    assert ceil_quarter(t(7, 9, 1)).tzinfo is UTC


@pytest.mark.parametrize(
    "minute, second, expected", [(0, 0, True), (45, 0, True), (10, 0, False), (15, 1, False)]
)
def test_is_quarter_hour(minute, second, expected):
    assert is_quarter_hour(t(7, 9, minute).replace(second=second)) is expected


# --- contains -----------------------------------------------------------------------------------

WINDOWS = [(t(7, 9), t(7, 10)), (t(7, 12), t(7, 14))]


def test_contains_inside_an_interval():
    assert contains(WINDOWS, t(7, 12, 30), t(7, 13))


def test_contains_exactly_the_interval():
    assert contains(WINDOWS, t(7, 12), t(7, 14))


def test_contains_refuses_a_span_across_a_gap():
    assert not contains(WINDOWS, t(7, 9, 45), t(7, 12, 15))


def test_contains_refuses_running_past_the_end():
    assert not contains(WINDOWS, t(7, 13, 45), t(7, 14, 15))


def test_contains_refuses_starting_before_the_start():
    assert not contains(WINDOWS, t(7, 11, 45), t(7, 12, 15))


def test_contains_refuses_before_every_interval():
    assert not contains(WINDOWS, t(7, 8), t(7, 8, 30))


def test_contains_refuses_after_every_interval():
    assert not contains(WINDOWS, t(7, 15), t(7, 15, 30))


def test_contains_nothing_in_no_windows():
    assert not contains([], t(7, 9), t(7, 9, 30))


# --- CounselorDay.free_slots --------------------------------------------------------------------


def test_free_slots_are_quarter_hour_starts_inside_the_window():
    day = day_of([(t(7, 9), t(7, 10))])
    assert day.free_slots(t(7, 0), t(8, 0), M30) == [
        (t(7, 9), t(7, 9, 30)),
        (t(7, 9, 15), t(7, 9, 45)),
        (t(7, 9, 30), t(7, 10)),
    ]


def test_free_slots_start_inside_the_requested_range():
    day = day_of([(t(7, 9), t(7, 11))])
    assert [s for s, _e in day.free_slots(t(7, 9, 30), t(7, 10), M30)] == [t(7, 9, 30), t(7, 9, 45)]


def test_free_slots_respect_earliest():
    day = day_of([(t(7, 9), t(7, 11))], earliest=t(7, 9, 20))
    assert day.free_slots(t(7, 0), t(8, 0), M30)[0][0] == t(7, 9, 30)


def test_free_slots_skip_clashing_bookings():
    day = day_of([(t(7, 9), t(7, 11))], busy=[(t(7, 10), t(7, 10, 30))])
    assert [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)] == [
        t(7, 9),
        t(7, 9, 15),
        t(7, 9, 30),
        t(7, 10, 30),
    ]


def test_free_slots_with_buffer_keep_distance_from_bookings():
    day = day_of([(t(7, 9), t(7, 12))], busy=[(t(7, 10), t(7, 10, 30))], buffer=15)
    assert [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)] == [
        t(7, 9),
        t(7, 9, 15),
        t(7, 10, 45),
        t(7, 11),
        t(7, 11, 15),
        t(7, 11, 30),
    ]


def test_free_slots_buffer_applies_to_bookings_outside_the_window():
    day = day_of([(t(7, 9), t(7, 10))], busy=[(t(7, 8), t(7, 9))], buffer=30)
    assert [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)] == [t(7, 9, 30)]


def test_free_slots_clash_check_sees_long_earlier_bookings():
    # A booking that started long before the candidate must still be found (busy is sorted by start).
    day = day_of([(t(7, 9), t(7, 12))], busy=[(t(7, 8), t(7, 8, 30)), (t(7, 9), t(7, 11))])
    assert [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)] == [
        t(7, 11),
        t(7, 11, 15),
        t(7, 11, 30),
    ]


def test_free_slots_stop_at_the_daily_cap():
    day = day_of([(t(7, 9), t(7, 12))], busy=[(t(7, 8), t(7, 8, 30))], cap=1)
    assert day.free_slots(t(7, 0), t(8, 0), M30) == []


def test_free_slots_below_the_cap_are_offered():
    day = day_of([(t(7, 9), t(7, 10))], busy=[(t(7, 8), t(7, 8, 30))], cap=2)
    assert len(day.free_slots(t(7, 0), t(8, 0), M30)) == 3


def test_free_slots_cap_is_per_local_day():
    # New York, January (UTC-5): 23:00 local on the 6th is 04:00Z on the 7th; local midnight is 05:00Z.
    day = day_of([(t(7, 3), t(7, 7))], busy=[(t(7, 4), t(7, 4, 30))], cap=1, tz="America/New_York")
    assert [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)] == [
        t(7, 5),
        t(7, 5, 15),
        t(7, 5, 30),
        t(7, 5, 45),
        t(7, 6),
        t(7, 6, 15),
        t(7, 6, 30),
    ]


def test_free_slots_limit_stops_early():
    day = day_of([(t(7, 9), t(7, 12))])
    assert day.free_slots(t(7, 0), t(8, 0), M15, limit=2) == [
        (t(7, 9), t(7, 9, 15)),
        (t(7, 9, 15), t(7, 9, 30)),
    ]


def test_free_slots_cross_a_seam_between_touching_windows_once():
    day = day_of([(t(7, 9), t(7, 10)), (t(7, 10), t(7, 11))])
    found = [s for s, _e in day.free_slots(t(7, 0), t(8, 0), M30)]
    assert t(7, 9, 45) in found
    assert len(found) == len(set(found)) == 7


def test_free_slots_of_15_minutes_use_the_last_quarter():
    day = day_of([(t(7, 9), t(7, 10))])
    assert day.free_slots(t(7, 0), t(8, 0), M15)[-1] == (t(7, 9, 45), t(7, 10))


def test_free_slots_none_when_window_shorter_than_duration():
    day = day_of([(t(7, 9), t(7, 9, 15))])
    assert day.free_slots(t(7, 0), t(8, 0), M30) == []


def test_clashes_is_half_open():
    day = day_of([], busy=[(t(7, 10), t(7, 10, 30))])
    assert not day.clashes(t(7, 9, 30), t(7, 10))
    assert not day.clashes(t(7, 10, 30), t(7, 11))
    assert day.clashes(t(7, 10, 15), t(7, 10, 45))


def test_local_date_uses_the_counselors_zone():
    day = day_of([], tz="Asia/Shanghai")
    assert day.local_date(t(7, 16)) == dt.date(2030, 1, 8)
