import datetime as dt

import pytest
from django.utils import timezone

from counselors.models import CounselorProfile
from listening.models import Booking
from tests.factories import (
    BookingFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    WeeklyWindowFactory,
    at_local,
    local_today,
    next_quarter,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
M15 = dt.timedelta(minutes=15)
M30 = dt.timedelta(minutes=30)
M45 = dt.timedelta(minutes=45)
H = dt.timedelta(hours=1)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def get_slots(api, counselor, **params):
    if "from_" in params:
        params["from"] = params.pop("from_")
    params = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in params.items()}
    return api.get(f"/api/v1/counselors/{counselor.pk}/slots/", params)


def slots(api, counselor, **params):
    response = get_slots(api, counselor, **params)
    assert response.status_code == 200, response.json()
    return [
        (dt.datetime.fromisoformat(s["start"]), dt.datetime.fromisoformat(s["end"]))
        for s in response.json()
    ]


def starts(api, counselor, **params):
    return [s for s, _e in slots(api, counselor, **params)]


def every_quarter(first, last):
    """Quarter-hour instants from `first` to `last`, both included."""
    out, t = [], first
    while t <= last:
        out.append(t)
        t += M15
    return out


def last_sunday(year, month):
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() - 6) % 7)


def next_change(month):
    """The next last-Sunday-of-`month` (EU DST change) at least a week from now."""
    soon = timezone.now().date() + dt.timedelta(days=7)
    change = last_sunday(soon.year, month)
    return change if change >= soon else last_sunday(soon.year + 1, month)


@pytest.fixture
def window(counselor):
    """The `counselor` fixture's three-hour window tomorrow, as (start, end)."""
    w = counselor.windows.get()
    return w.start, w.end


# --- the basic shape ----------------------------------------------------------------------------


def test_slots_are_30_minutes_at_every_quarter_hour_of_the_window(anon, counselor, window):
    ws, we = window
    result = slots(anon, counselor)
    assert [s for s, _e in result] == every_quarter(ws, we - M30)
    assert all(e - s == M30 for s, e in result)


def test_15_minute_slots_fill_the_window(anon, counselor, window):
    ws, we = window
    result = slots(anon, counselor, duration=15)
    assert [s for s, _e in result] == every_quarter(ws, we - M15)
    assert all(e - s == M15 for s, e in result)


def test_no_slot_runs_past_the_window_end(anon, counselor, window):
    _ws, we = window
    assert max(e for _s, e in slots(anon, counselor)) == we


def test_slot_times_carry_an_offset(anon, counselor):
    first = get_slots(anon, counselor).json()[0]
    assert dt.datetime.fromisoformat(first["start"]).tzinfo is not None
    assert dt.datetime.fromisoformat(first["end"]).tzinfo is not None


def test_slots_are_visible_to_logged_in_clients(as_client, counselor, window):
    assert starts(as_client, counselor)[0] == window[0]


def test_counselor_without_windows_has_no_slots(anon, other_counselor):
    assert slots(anon, other_counselor) == []


def test_from_and_to_bound_the_slot_starts(anon, counselor, window):
    ws, _we = window
    result = starts(anon, counselor, from_=ws + H, to=ws + 2 * H)
    assert result == every_quarter(ws + H, ws + 2 * H - M15)


def test_slot_may_end_after_to_if_it_starts_before(anon, counselor, window):
    ws, _we = window
    result = slots(anon, counselor, from_=ws, to=ws + M15)
    assert result == [(ws, ws + M30)]


def test_from_off_the_quarter_rounds_up(anon, counselor, window):
    ws, _we = window
    assert starts(anon, counselor, from_=ws + dt.timedelta(minutes=1), to=ws + H)[0] == ws + M15


def test_default_range_is_a_week(anon):
    profile = CounselorProfileFactory()
    start = next_quarter(days=8).replace(minute=0)
    OneOffWindowFactory(counselor=profile, start=start, end=start + H)
    assert slots(anon, profile) == []
    assert slots(anon, profile, from_=start - H)[0][0] == start


def test_range_of_exactly_31_days_is_allowed(anon, counselor):
    now = timezone.now()
    assert get_slots(anon, counselor, from_=now, to=now + dt.timedelta(days=31)).status_code == 200


# --- time: future only, minimum notice ---------------------------------------------------------


def test_slots_are_in_the_future_only(anon):
    profile = CounselorProfileFactory(min_notice_minutes=0)
    start = next_quarter() - 2 * H
    OneOffWindowFactory(counselor=profile, start=start, end=start + 5 * H)
    before = timezone.now()
    result = starts(anon, profile, from_=start - H, to=start + 6 * H)
    after = timezone.now()
    assert result
    assert all(s >= before for s in result)
    assert result[0] <= after + M15


def test_range_wholly_in_the_past_has_no_slots(anon):
    profile = CounselorProfileFactory(min_notice_minutes=0)
    start = next_quarter() - 5 * H
    OneOffWindowFactory(counselor=profile, start=start, end=start + 3 * H)
    assert slots(anon, profile, from_=start, to=start + 3 * H) == []


def test_min_notice_is_respected(anon):
    profile = CounselorProfileFactory(min_notice_minutes=120)
    start = next_quarter() - H
    OneOffWindowFactory(counselor=profile, start=start, end=start + 6 * H)
    before = timezone.now()
    result = starts(anon, profile, from_=start, to=start + 6 * H)
    after = timezone.now()
    assert result[0] >= before + 2 * H
    assert result[0] <= after + 2 * H + M15
    assert result[-1] == start + 6 * H - M30


def test_min_notice_can_hide_a_whole_window(anon):
    profile = CounselorProfileFactory(min_notice_minutes=24 * 60)
    start = next_quarter().replace(minute=0) + 2 * H
    OneOffWindowFactory(counselor=profile, start=start, end=start + 3 * H)
    assert slots(anon, profile, from_=start, to=start + 3 * H) == []


# --- bookings, buffers, daily cap ---------------------------------------------------------------


def test_booked_slot_and_its_overlapping_starts_are_gone(anon, counselor, window):
    ws, we = window
    BookingFactory(counselor=counselor, start=ws + H, duration_minutes=30)
    result = starts(anon, counselor)
    assert not {ws + M45, ws + H, ws + H + M15} & set(result)
    assert ws + M30 in result  # ends exactly when the booking starts
    assert ws + H + M30 in result  # starts exactly when it ends
    assert result == [t for t in every_quarter(ws, we - M30) if not ws + M30 < t < ws + H + M30]


def test_booked_15_minute_session_blocks_only_its_quarter_for_15_minute_slots(
    anon, counselor, window
):
    ws, we = window
    BookingFactory(counselor=counselor, start=ws + H, duration_minutes=15)
    assert starts(anon, counselor, duration=15) == [
        t for t in every_quarter(ws, we - M15) if t != ws + H
    ]


def test_cancelled_booking_frees_its_time(anon, counselor, window):
    ws, we = window
    BookingFactory(counselor=counselor, start=ws + H, status=Booking.Status.CANCELLED)
    assert starts(anon, counselor) == every_quarter(ws, we - M30)


def test_another_counselors_booking_does_not_matter(anon, counselor, other_counselor, window):
    ws, we = window
    BookingFactory(counselor=other_counselor, start=ws + H)
    assert starts(anon, counselor) == every_quarter(ws, we - M30)


def test_buffer_removes_adjacent_starts(anon, counselor, window):
    ws, we = window
    counselor.buffer_minutes = 15
    counselor.save(update_fields=["buffer_minutes"])
    BookingFactory(counselor=counselor, start=ws + H, duration_minutes=30)
    result = starts(anon, counselor)
    assert ws + M15 in result  # ends at ws+45: a quarter free before the booking
    assert ws + M30 not in result  # would end right when the booking starts
    assert ws + H + M30 not in result  # would start right when the booking ends
    assert ws + H + M45 in result
    assert result == [t for t in every_quarter(ws, we - M30) if not ws + M15 < t < ws + H + M45]


def test_daily_cap_blocks_the_rest_of_the_counselors_local_day_only(anon):
    """Cap 1 in New York: a session at 23:00 on day D fills D, but 00:00 on D+1 local is a new day,
    although in UTC both instants fall on the same date."""
    profile = CounselorProfileFactory(user__timezone=NEW_YORK, daily_cap=1)
    day = local_today(NEW_YORK) + dt.timedelta(days=7)
    window_start, local_midnight = (
        at_local(NEW_YORK, day, 22),
        at_local(NEW_YORK, day + dt.timedelta(days=1), 0),
    )
    window_end = at_local(NEW_YORK, day + dt.timedelta(days=1), 2)
    booked = at_local(NEW_YORK, day, 23)
    assert booked.date() == local_midnight.date()  # the same UTC date
    OneOffWindowFactory(counselor=profile, start=window_start, end=window_end)
    BookingFactory(counselor=profile, start=booked, duration_minutes=30)
    result = starts(anon, profile, from_=window_start, to=window_end)
    assert result == every_quarter(local_midnight, window_end - M30)


def test_below_the_daily_cap_the_day_stays_open(anon):
    profile = CounselorProfileFactory(user__timezone=NEW_YORK, daily_cap=2)
    day = local_today(NEW_YORK) + dt.timedelta(days=7)
    window_start, window_end = (
        at_local(NEW_YORK, day, 22),
        at_local(NEW_YORK, day + dt.timedelta(days=1), 2),
    )
    OneOffWindowFactory(counselor=profile, start=window_start, end=window_end)
    BookingFactory(counselor=profile, start=at_local(NEW_YORK, day, 23))
    result = starts(anon, profile, from_=window_start, to=window_end)
    assert window_start in result
    assert at_local(NEW_YORK, day, 23, 30) in result


def test_daily_cap_counts_bookings_outside_the_queried_range(anon):
    profile = CounselorProfileFactory(user__timezone=NEW_YORK, daily_cap=1)
    day = local_today(NEW_YORK) + dt.timedelta(days=7)
    OneOffWindowFactory(
        counselor=profile, start=at_local(NEW_YORK, day, 8), end=at_local(NEW_YORK, day, 10)
    )
    OneOffWindowFactory(
        counselor=profile, start=at_local(NEW_YORK, day, 20), end=at_local(NEW_YORK, day, 22)
    )
    BookingFactory(counselor=profile, start=at_local(NEW_YORK, day, 8))
    assert (
        slots(anon, profile, from_=at_local(NEW_YORK, day, 20), to=at_local(NEW_YORK, day, 22))
        == []
    )


def test_completed_and_no_show_sessions_count_toward_the_cap(anon):
    profile = CounselorProfileFactory(user__timezone=NEW_YORK, daily_cap=2)
    day = local_today(NEW_YORK) + dt.timedelta(days=7)
    OneOffWindowFactory(
        counselor=profile, start=at_local(NEW_YORK, day, 8), end=at_local(NEW_YORK, day, 12)
    )
    BookingFactory(
        counselor=profile, start=at_local(NEW_YORK, day, 8), status=Booking.Status.COMPLETED
    )
    BookingFactory(
        counselor=profile, start=at_local(NEW_YORK, day, 9), status=Booking.Status.NO_SHOW
    )
    assert (
        slots(anon, profile, from_=at_local(NEW_YORK, day, 8), to=at_local(NEW_YORK, day, 12)) == []
    )


def test_daily_cap_counts_the_whole_25_hour_day_when_clocks_go_back(anon):
    """On the autumn DST Sunday a local day lasts 25 hours: a session in its first half hour still
    fills the cap for a slot in its last half hour, more than 24 hours later."""
    profile = CounselorProfileFactory(user__timezone=BERLIN, daily_cap=1)
    change = next_change(10)
    first, last = at_local(BERLIN, change, 0), at_local(BERLIN, change, 23, 30)
    assert last - first == dt.timedelta(hours=24, minutes=30)
    OneOffWindowFactory(counselor=profile, start=last, end=last + M30)
    BookingFactory(counselor=profile, start=first, duration_minutes=30)
    assert slots(anon, profile, from_=last, to=last + M30) == []


# --- weekly windows and DST ---------------------------------------------------------------------


@pytest.fixture
def berlin_counselor(db):
    return CounselorProfileFactory(user__timezone=BERLIN)


def weekly_berlin_slots(anon, profile, change):
    """Slots of a Friday 20:00-21:00 Berlin rule in the fortnight around the Sunday `change`."""
    friday_before, friday_after = change - dt.timedelta(days=2), change + dt.timedelta(days=5)
    WeeklyWindowFactory(
        counselor=profile,
        weekday=4,
        start_time=dt.time(20),
        end_time=dt.time(21),
        timezone=BERLIN,
        valid_from=local_today(BERLIN) - dt.timedelta(days=3),
    )
    start = dt.datetime.combine(change - dt.timedelta(days=7), dt.time(0), tzinfo=UTC)
    result = starts(anon, profile, from_=start, to=start + dt.timedelta(days=14))
    return friday_before, friday_after, result


def utc(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


def test_weekly_berlin_window_stays_at_20_local_across_spring_dst(anon, berlin_counselor):
    """20:00 Berlin is 19:00 UTC in winter (CET) and 18:00 UTC in summer (CEST)."""
    before, after, result = weekly_berlin_slots(anon, berlin_counselor, next_change(3))
    assert result == [
        utc(before, 19),
        utc(before, 19, 15),
        utc(before, 19, 30),
        utc(after, 18),
        utc(after, 18, 15),
        utc(after, 18, 30),
    ]


def test_weekly_berlin_window_stays_at_20_local_across_autumn_dst(anon, berlin_counselor):
    before, after, result = weekly_berlin_slots(anon, berlin_counselor, next_change(10))
    assert result == [
        utc(before, 18),
        utc(before, 18, 15),
        utc(before, 18, 30),
        utc(after, 19),
        utc(after, 19, 15),
        utc(after, 19, 30),
    ]


def test_weekly_window_on_the_dst_sunday_itself_uses_the_new_offset(anon, berlin_counselor):
    change = next_change(3)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=6,
        timezone=BERLIN,
        start_time=dt.time(20),
        end_time=dt.time(21),
    )
    start = utc(change, 0)
    assert starts(anon, berlin_counselor, from_=start, to=start + dt.timedelta(days=1)) == [
        utc(change, 18),
        utc(change, 18, 15),
        utc(change, 18, 30),
    ]


def test_weekly_window_follows_its_own_zone_not_the_counselors(anon):
    profile = CounselorProfileFactory(user__timezone="Asia/Shanghai")
    day = local_today(BERLIN) + dt.timedelta(days=7)
    WeeklyWindowFactory(
        counselor=profile,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(20),
        end_time=dt.time(21),
    )
    result = starts(anon, profile, from_=at_local(BERLIN, day, 0), to=at_local(BERLIN, day, 23))
    assert result == every_quarter(at_local(BERLIN, day, 20), at_local(BERLIN, day, 20, 30))


def test_weekly_window_repeats_every_week(anon, berlin_counselor):
    day = local_today(BERLIN) + dt.timedelta(days=2)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(9),
        end_time=dt.time(9, 30),
    )
    start = at_local(BERLIN, day, 0)
    result = starts(anon, berlin_counselor, from_=start, to=start + dt.timedelta(days=22))
    assert result == [at_local(BERLIN, day + dt.timedelta(days=7 * k), 9) for k in range(4)]


def test_weekly_window_ends_on_valid_until(anon, berlin_counselor):
    day = local_today(BERLIN) + dt.timedelta(days=2)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(9),
        end_time=dt.time(9, 30),
        valid_until=day + dt.timedelta(days=7),
    )
    start = at_local(BERLIN, day, 0)
    result = starts(anon, berlin_counselor, from_=start, to=start + dt.timedelta(days=22))
    assert result == [at_local(BERLIN, day, 9), at_local(BERLIN, day + dt.timedelta(days=7), 9)]


def test_weekly_window_starts_on_valid_from(anon, berlin_counselor):
    day = local_today(BERLIN) + dt.timedelta(days=2)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(9),
        end_time=dt.time(9, 30),
        valid_from=day + dt.timedelta(days=1),
    )
    start = at_local(BERLIN, day, 0)
    result = starts(anon, berlin_counselor, from_=start, to=start + dt.timedelta(days=10))
    assert result == [at_local(BERLIN, day + dt.timedelta(days=7), 9)]


def test_weekly_window_ending_at_midnight_offers_the_last_slot(anon, berlin_counselor):
    day = local_today(BERLIN) + dt.timedelta(days=2)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(23),
        end_time=dt.time(0),
    )
    start = at_local(BERLIN, day, 0)
    result = starts(anon, berlin_counselor, from_=start, to=start + dt.timedelta(days=1))
    assert result == every_quarter(at_local(BERLIN, day, 23), at_local(BERLIN, day, 23, 30))


# --- merged windows -----------------------------------------------------------------------------


def test_touching_windows_give_continuous_slots_across_the_seam(anon):
    profile = CounselorProfileFactory()
    start = next_quarter(days=2).replace(minute=0)
    OneOffWindowFactory(counselor=profile, start=start, end=start + H)
    OneOffWindowFactory(counselor=profile, start=start + H, end=start + 2 * H)
    result = starts(anon, profile, from_=start, to=start + 2 * H)
    assert result == every_quarter(start, start + 2 * H - M30)
    assert start + M45 in result  # straddles the seam


def test_overlapping_one_off_and_weekly_windows_give_no_duplicates(anon, berlin_counselor):
    day = local_today(BERLIN) + dt.timedelta(days=3)
    WeeklyWindowFactory(
        counselor=berlin_counselor,
        weekday=day.weekday(),
        timezone=BERLIN,
        start_time=dt.time(20),
        end_time=dt.time(21),
    )
    OneOffWindowFactory(
        counselor=berlin_counselor,
        start=at_local(BERLIN, day, 20, 30),
        end=at_local(BERLIN, day, 22),
    )
    result = starts(
        anon, berlin_counselor, from_=at_local(BERLIN, day, 0), to=at_local(BERLIN, day, 23)
    )
    assert result == every_quarter(at_local(BERLIN, day, 20), at_local(BERLIN, day, 21, 30))
    assert len(result) == len(set(result))


def test_windows_merged_on_creation_give_continuous_slots(anon, as_counselor, counselor, window):
    ws, we = window
    response = as_counselor.post(
        "/api/v1/counselors/me/windows/",
        {"start": (we - H).isoformat(), "end": (we + H).isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert starts(anon, counselor) == every_quarter(ws, we + H - M30)


# --- who and what may be asked ------------------------------------------------------------------


def test_unverified_counselor_slots_are_404(anon):
    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    OneOffWindowFactory(counselor=profile)
    assert get_slots(anon, profile).status_code == 404


def test_inactive_counselor_slots_are_404(anon):
    profile = CounselorProfileFactory(is_active=False)
    OneOffWindowFactory(counselor=profile)
    assert get_slots(anon, profile).status_code == 404


def test_deactivated_user_slots_are_404(anon):
    profile = CounselorProfileFactory(user__is_active=False)
    OneOffWindowFactory(counselor=profile)
    assert get_slots(anon, profile).status_code == 404


def test_unverified_counselor_cannot_see_own_slots_either(db):
    from tests.conftest import api_as

    profile = CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING)
    assert get_slots(api_as(profile.user), profile).status_code == 404


def test_from_without_offset_is_400(anon, counselor):
    response = get_slots(anon, counselor, **{"from": "2030-01-07T09:00:00"})
    assert response.status_code == 400
    assert "from" in response.json()


@pytest.mark.parametrize(
    "start, end", [("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"), ("9999-12-30T00:00:00Z", "")]
)
def test_a_time_at_the_calendars_ends_is_400_not_500(anon, counselor, start, end):
    response = get_slots(anon, counselor, **{"from": start, **({"to": end} if end else {})})
    assert response.status_code == 400
    assert "from" in response.json()


def test_unparseable_from_is_400(anon, counselor):
    response = get_slots(anon, counselor, **{"from": "next tuesday"})
    assert response.status_code == 400
    assert "from" in response.json()


def test_to_before_from_is_400(anon, counselor, window):
    ws, _we = window
    response = get_slots(anon, counselor, from_=ws + H, to=ws)
    assert response.status_code == 400
    assert "to" in response.json()


def test_to_equal_to_from_is_400(anon, counselor, window):
    ws, _we = window
    response = get_slots(anon, counselor, from_=ws, to=ws)
    assert response.status_code == 400
    assert "to" in response.json()


def test_range_over_31_days_is_400(anon, counselor):
    now = timezone.now()
    response = get_slots(anon, counselor, from_=now, to=now + dt.timedelta(days=31, minutes=1))
    assert response.status_code == 400
    assert "to" in response.json()


@pytest.mark.parametrize("duration", ["20", "60", "0", "thirty"])
def test_duration_other_than_15_or_30_is_400(anon, counselor, duration):
    response = get_slots(anon, counselor, duration=duration)
    assert response.status_code == 400
    assert "duration" in response.json()
