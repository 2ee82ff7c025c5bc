"""Time off: whole local days in the counselor's zone that hide slots and keep the windows;
sessions already booked inside are listed for the counselor, never cancelled for them."""

import datetime as dt

import pytest
from django.urls import reverse

from core.availability import days_off_intervals, subtract
from counselors.models import TimeOff
from listening.models import Booking
from tests.factories import (
    BookingFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    TimeOffFactory,
    WeeklyWindowFactory,
    at_local,
    local_today,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SHANGHAI, BERLIN = "Asia/Shanghai", "Europe/Berlin"
URL = "/api/v1/counselors/me/time-off/"
# The clocks in Berlin go forward on Sunday 28 March 2027 (a 23-hour day) and back on
# Sunday 31 October 2027 (25 hours).
SPRING, AUTUMN = dt.date(2027, 3, 28), dt.date(2027, 10, 31)


def slot_starts(api, counselor, start, end, duration=30):
    response = api.get(
        f"/api/v1/counselors/{counselor.pk}/slots/",
        {"from": start.isoformat(), "to": end.isoformat(), "duration": duration},
    )
    assert response.status_code == 200, response.json()
    return [dt.datetime.fromisoformat(s["start"]) for s in response.json()]


def window_day(counselor, day, tz=SHANGHAI, hours=(10, 13)):
    OneOffWindowFactory(
        counselor=counselor, start=at_local(tz, day, hours[0]), end=at_local(tz, day, hours[1])
    )


# --- the pure part --------------------------------------------------------------------------------


def test_a_day_off_runs_from_local_midnight_to_local_midnight():
    [(start, end)] = days_off_intervals(
        [(dt.date(2027, 1, 5), dt.date(2027, 1, 5))],
        SHANGHAI,
        dt.datetime(2027, 1, 1, tzinfo=UTC),
        dt.datetime(2027, 2, 1, tzinfo=UTC),
    )
    assert start == at_local(SHANGHAI, dt.date(2027, 1, 5), 0)
    assert end == at_local(SHANGHAI, dt.date(2027, 1, 6), 0)


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (AUTUMN, 25)])
def test_a_day_off_on_a_dst_change_is_that_whole_local_day(day, hours):
    [(start, end)] = days_off_intervals(
        [(day, day)],
        BERLIN,
        dt.datetime(2027, 1, 1, tzinfo=UTC),
        dt.datetime(2028, 1, 1, tzinfo=UTC),
    )
    assert end - start == dt.timedelta(hours=hours)
    assert start == at_local(BERLIN, day, 0)


def test_subtract_cuts_holes_out_of_windows():
    t = dt.datetime(2027, 1, 1, tzinfo=UTC)
    h = dt.timedelta(hours=1)
    windows = [(t, t + 4 * h), (t + 6 * h, t + 8 * h)]
    holes = [(t + h, t + 2 * h), (t + 3 * h, t + 7 * h)]
    assert subtract(windows, holes) == [(t, t + h), (t + 2 * h, t + 3 * h), (t + 7 * h, t + 8 * h)]


# --- slots, the directory and bookings respect it ------------------------------------------------


def test_time_off_hides_the_slots_of_that_day(anon):
    counselor = CounselorProfileFactory()
    day = local_today(SHANGHAI) + dt.timedelta(days=2)
    window_day(counselor, day)
    window_day(counselor, day + dt.timedelta(days=1))
    TimeOffFactory(counselor=counselor, start_date=day, end_date=day)
    starts = slot_starts(
        anon,
        counselor,
        at_local(SHANGHAI, day, 0),
        at_local(SHANGHAI, day + dt.timedelta(days=2), 0),
    )
    assert starts
    assert all(s >= at_local(SHANGHAI, day + dt.timedelta(days=1), 0) for s in starts)


def test_time_off_keeps_the_windows(as_counselor, counselor):
    day = local_today(SHANGHAI) + dt.timedelta(days=1)
    before = counselor.windows.count()
    response = as_counselor.post(URL, {"start_date": day, "end_date": day}, format="json")
    assert response.status_code == 201, response.json()
    assert counselor.windows.count() == before


def test_removing_time_off_brings_the_slots_back(as_counselor, counselor, anon):
    start = counselor.windows.get().start
    end = start + dt.timedelta(hours=3)
    # The window can cross the counselor's local midnight (a run after 13:00 UTC): cover
    # every local day it touches.
    shanghai = dt.timezone(dt.timedelta(hours=8))
    first, last = (
        start.astimezone(shanghai).date(),
        (end - dt.timedelta(seconds=1)).astimezone(shanghai).date(),
    )
    off = TimeOffFactory(counselor=counselor, start_date=first, end_date=last)
    assert slot_starts(anon, counselor, start, end) == []
    assert as_counselor.delete(f"{URL}{off.pk}/").status_code == 204
    assert slot_starts(anon, counselor, start, end)


@pytest.mark.parametrize("day", [SPRING, AUTUMN])
def test_time_off_across_a_dst_change_hides_exactly_those_local_days(anon, day):
    counselor = CounselorProfileFactory(user__timezone=BERLIN)
    for weekday, start, end in [(4, 23, 0), (5, 22, 0), (6, 8, 10), (0, 0, 1)]:  # Fri-Mon
        WeeklyWindowFactory(
            counselor=counselor,
            weekday=weekday,
            start_time=dt.time(start),
            end_time=dt.time(end),
        )
    saturday = day - dt.timedelta(days=1)
    TimeOffFactory(counselor=counselor, start_date=saturday, end_date=day)
    friday, monday = day - dt.timedelta(days=2), day + dt.timedelta(days=1)
    starts = slot_starts(anon, counselor, at_local(BERLIN, friday, 0), at_local(BERLIN, monday, 2))
    expected = [at_local(BERLIN, friday, 23, m) for m in (0, 15, 30)]
    expected += [at_local(BERLIN, monday, 0, m) for m in (0, 15, 30)]
    assert starts == expected


def test_directory_filter_drops_a_counselor_on_time_off(anon):
    day = local_today(SHANGHAI) + dt.timedelta(days=2)
    away, free = CounselorProfileFactory(), CounselorProfileFactory()
    window_day(away, day)
    window_day(free, day)
    TimeOffFactory(counselor=away, start_date=day - dt.timedelta(days=1), end_date=day)
    response = anon.get(
        "/api/v1/counselors/",
        {
            "available_from": at_local(SHANGHAI, day, 0).isoformat(),
            "available_to": at_local(SHANGHAI, day, 23).isoformat(),
        },
    )
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [free.pk]


def test_directory_filter_keeps_a_counselor_whose_time_off_is_another_day(anon):
    day = local_today(SHANGHAI) + dt.timedelta(days=2)
    counselor = CounselorProfileFactory()
    window_day(counselor, day)
    TimeOffFactory(counselor=counselor, start_date=day + dt.timedelta(days=1))
    response = anon.get(
        "/api/v1/counselors/",
        {
            "available_from": at_local(SHANGHAI, day, 0).isoformat(),
            "available_to": at_local(SHANGHAI, day, 23).isoformat(),
        },
    )
    assert [c["id"] for c in response.json()["results"]] == [counselor.pk]


def test_booking_inside_time_off_is_400_and_books_nothing(as_client, counselor):
    start = counselor.windows.get().start
    day = start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    TimeOffFactory(counselor=counselor, start_date=day, end_date=day)
    response = as_client.post(
        "/api/v1/bookings/",
        {
            "counselor": counselor.pk,
            "start": start.isoformat(),
            "duration_minutes": 30,
            "mode": "text",
            "topic": "sleep",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "away" in " ".join(response.json()["start"])
    assert not Booking.objects.exists()


def test_rescheduling_into_time_off_is_400_and_moves_nothing(as_client, client_user):
    counselor = CounselorProfileFactory()
    first = local_today(SHANGHAI) + dt.timedelta(days=2)
    second = first + dt.timedelta(days=1)
    window_day(counselor, first)
    window_day(counselor, second)
    booking = BookingFactory(
        counselor=counselor, client=client_user, start=at_local(SHANGHAI, first, 10)
    )
    TimeOffFactory(counselor=counselor, start_date=second, end_date=second)
    response = as_client.post(
        f"/api/v1/bookings/{booking.pk}/reschedule/",
        {"start": at_local(SHANGHAI, second, 11).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "start" in response.json()
    booking.refresh_from_db()
    assert booking.start == at_local(SHANGHAI, first, 10)


# --- the API --------------------------------------------------------------------------------------


def test_adding_time_off_lists_the_sessions_booked_inside_and_cancels_none(
    as_counselor, counselor, client_user
):
    start = counselor.windows.get().start
    booking = BookingFactory(counselor=counselor, client=client_user, start=start)
    day = start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    response = as_counselor.post(
        URL, {"start_date": day, "end_date": day, "note": "conference"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [s["id"] for s in body["sessions"]] == [booking.pk]
    assert "topic" not in body["sessions"][0]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_time_off_list_shows_own_ranges_with_their_sessions(
    as_counselor, counselor, other_counselor, client_user
):
    start = counselor.windows.get().start
    booking = BookingFactory(counselor=counselor, client=client_user, start=start)
    day = start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    mine = TimeOffFactory(counselor=counselor, start_date=day, end_date=day)
    TimeOffFactory(counselor=other_counselor)
    body = as_counselor.get(URL).json()
    assert [(r["id"], [s["id"] for s in r["sessions"]]) for r in body["results"]] == [
        (mine.pk, [booking.pk])
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start_date": "2030-01-05", "end_date": "2030-01-04"}, "end_date"),
        ({"start_date": "2020-01-01", "end_date": "2020-01-02"}, "end_date"),
        ({"start_date": "2030-01-01", "end_date": "2031-06-01"}, "end_date"),
        ({"start_date": "not a date", "end_date": "2030-01-01"}, "start_date"),
        ({"end_date": "2030-01-01"}, "start_date"),
    ],
)
def test_bad_time_off_is_400_naming_the_field_and_adds_nothing(as_counselor, payload, field):
    response = as_counselor.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TimeOff.objects.exists()


def test_overlapping_time_off_is_kept_as_given(as_counselor, counselor):
    for start, end in [("2030-01-01", "2030-01-05"), ("2030-01-03", "2030-01-08")]:
        assert as_counselor.post(URL, {"start_date": start, "end_date": end}).status_code == 201
    assert TimeOff.objects.filter(counselor=counselor).count() == 2


def test_a_client_cannot_add_time_off(as_client):
    response = as_client.post(URL, {"start_date": "2030-01-01", "end_date": "2030-01-01"})
    assert response.status_code == 403
    assert not TimeOff.objects.exists()


def test_removing_another_counselors_time_off_is_404(as_counselor, other_counselor):
    theirs = TimeOffFactory(counselor=other_counselor)
    assert as_counselor.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert TimeOff.objects.filter(pk=theirs.pk).exists()


# --- the availability page -----------------------------------------------------------------------


def test_availability_page_adds_time_off_and_lists_booked_sessions(client, counselor, client_user):
    start = counselor.windows.get().start
    booking = BookingFactory(counselor=counselor, client=client_user, start=start)
    day = start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    client.force_login(counselor.user)
    response = client.post(
        reverse("counselors:counselor-time-off-add"),
        {"timeoff-start_date": day, "timeoff-end_date": day},
    )
    assert response.status_code == 302
    page = client.get(reverse("counselors:counselor-availability")).content.decode()
    assert f'id="time-off-session-{booking.pk}"' in page
    assert "work stress" not in page  # the topic is not needed to decide
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_availability_page_refuses_a_backwards_range_with_400(client, counselor):
    client.force_login(counselor.user)
    response = client.post(
        reverse("counselors:counselor-time-off-add"),
        {"timeoff-start_date": "2030-01-05", "timeoff-end_date": "2030-01-04"},
    )
    assert response.status_code == 400
    assert not TimeOff.objects.exists()


def test_cancelling_a_session_from_the_time_off_list_tells_the_client(
    client, counselor, client_user, mailoutbox, django_capture_on_commit_callbacks
):
    booking = BookingFactory(
        counselor=counselor, client=client_user, start=counselor.windows.get().start
    )
    TimeOffFactory(
        counselor=counselor,
        start_date=local_today(SHANGHAI),
        end_date=local_today(SHANGHAI) + dt.timedelta(days=3),
    )
    client.force_login(counselor.user)
    back = reverse("counselors:counselor-availability") + "#time-off"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("listening:booking-cancel", args=[booking.pk]),
            {f"cancel-{booking.pk}-reason": "I am away that day", "next": back},
        )
    assert response.status_code == 302
    assert response["Location"] == back
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_by_id == counselor.pk
    assert [m.to for m in mailoutbox] == [[client_user.email]]
    assert "I am away that day" in mailoutbox[0].body


def test_time_off_page_cancel_cannot_touch_another_counselors_session(client, other_counselor):
    booking = BookingFactory()
    client.force_login(other_counselor.user)
    response = client.post(
        reverse("listening:booking-cancel", args=[booking.pk]),
        {f"cancel-{booking.pk}-reason": "x"},
    )
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_availability_week_grid_marks_the_days_off(client, counselor):
    client.force_login(counselor.user)
    today = local_today(SHANGHAI)
    TimeOffFactory(counselor=counselor, start_date=today, end_date=today)
    page = client.get(
        reverse("counselors:counselor-availability"), {"week": today.isoformat()}
    ).content.decode()
    assert page.count('class="away-day"') == 1
    assert "time off (nothing can be booked)" in page
