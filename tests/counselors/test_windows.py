import datetime as dt

import pytest

from counselors.models import AvailabilityWindow
from listening.models import Booking
from tests.factories import (
    BookingFactory,
    OneOffWindowFactory,
    WeeklyWindowFactory,
    local_today,
    next_quarter,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/counselors/me/windows/"
H = dt.timedelta(hours=1)
M15 = dt.timedelta(minutes=15)


@pytest.fixture
def base():
    """A whole hour two days ahead: far enough that nothing here is in the past."""
    return next_quarter(days=2).replace(minute=0)


def one_off(api, start, end):
    return api.post(URL, {"start": start.isoformat(), "end": end.isoformat()}, format="json")


def weekly(api, **body):
    body = {"weekday": 2, "start_time": "18:00", "end_time": "20:00", **body}
    return api.post(URL, body, format="json")


def listed(api):
    response = api.get(URL)
    assert response.status_code == 200
    return response.json()["results"]


def parse(value):
    return dt.datetime.fromisoformat(value)


# --- creating -----------------------------------------------------------------------------------


def test_one_off_window_create_is_201(as_counselor, counselor, base):
    response = one_off(as_counselor, base, base + 2 * H)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "one_off"
    assert (parse(body["start"]), parse(body["end"])) == (base, base + 2 * H)
    assert AvailabilityWindow.objects.filter(pk=body["id"], counselor=counselor).exists()


def test_one_off_window_accepts_any_offset_and_stores_the_instant(as_counselor, base):
    start = base.astimezone(dt.timezone(dt.timedelta(hours=-3, minutes=-30)))  # Newfoundland-like
    response = one_off(as_counselor, start, start + H)
    assert response.status_code == 201, response.json()
    assert parse(response.json()["start"]) == base


def test_one_off_window_of_exactly_12_hours_is_allowed(as_counselor, base):
    assert one_off(as_counselor, base, base + 12 * H).status_code == 201


def test_weekly_window_create_is_201(as_counselor, counselor):
    response = weekly(as_counselor, timezone="Europe/Berlin")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "weekly"
    assert (body["weekday"], body["start_time"], body["end_time"]) == (2, "18:00:00", "20:00:00")
    assert body["timezone"] == "Europe/Berlin"


def test_weekly_window_defaults_timezone_to_counselors(as_counselor, counselor):
    response = weekly(as_counselor)
    assert response.status_code == 201, response.json()
    assert response.json()["timezone"] == "Asia/Shanghai"


def test_weekly_window_defaults_valid_from_to_today_in_its_zone(as_counselor):
    body = weekly(as_counselor, timezone="Pacific/Kiritimati").json()
    assert body["valid_from"] == local_today("Pacific/Kiritimati").isoformat()
    assert body["valid_until"] is None


def test_weekly_window_default_zone_follows_profile_timezone_change(as_counselor):
    as_counselor.patch("/api/v1/counselors/me/", {"timezone": "America/New_York"}, format="json")
    assert weekly(as_counselor).json()["timezone"] == "America/New_York"


def test_weekly_window_may_end_at_midnight(as_counselor):
    response = weekly(as_counselor, start_time="18:00", end_time="00:00")
    assert response.status_code == 201, response.json()
    assert response.json()["end_time"] == "00:00:00"


def test_weekly_window_keeps_valid_from_in_the_past(as_counselor):
    since = local_today("Asia/Shanghai") - dt.timedelta(days=30)
    response = weekly(as_counselor, valid_from=since.isoformat())
    assert response.status_code == 201, response.json()
    assert response.json()["valid_from"] == since.isoformat()


# --- validation: each error names its field, nothing is stored ----------------------------------


@pytest.fixture
def no_new_windows(counselor):
    """The `counselor` fixture's own window is the only one before and after."""
    before = set(AvailabilityWindow.objects.values_list("pk", flat=True))
    yield
    assert set(AvailabilityWindow.objects.values_list("pk", flat=True)) == before


def refused(response, field):
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    return response.json()[field]


def test_one_off_start_not_on_quarter_hour_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base + dt.timedelta(minutes=7), base + H), "start")


def test_one_off_end_not_on_quarter_hour_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base, base + dt.timedelta(minutes=50)), "end")


def test_one_off_with_seconds_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base + dt.timedelta(seconds=30), base + H), "start")


def test_one_off_end_before_start_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base + H, base), "end")


def test_one_off_end_equal_to_start_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base, base), "end")


def test_one_off_longer_than_12_hours_is_400(as_counselor, base, no_new_windows):
    refused(one_off(as_counselor, base, base + 12 * H + M15), "end")


def test_one_off_start_in_the_past_is_400(as_counselor, no_new_windows):
    start = next_quarter() - 2 * H
    refused(one_off(as_counselor, start, start + 3 * H), "start")


def test_one_off_naive_datetime_is_400(as_counselor, base, no_new_windows):
    body = {"start": base.replace(tzinfo=None).isoformat(), "end": (base + H).isoformat()}
    refused(as_counselor.post(URL, body, format="json"), "start")


def test_one_off_missing_end_is_400(as_counselor, base, no_new_windows):
    refused(as_counselor.post(URL, {"start": base.isoformat()}, format="json"), "end")


def test_empty_body_names_start_and_end(as_counselor, no_new_windows):
    response = as_counselor.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"start", "end"} <= set(response.json())


def test_weekly_missing_times_are_400_naming_both(as_counselor, no_new_windows):
    response = as_counselor.post(URL, {"weekday": 1}, format="json")
    assert response.status_code == 400
    assert {"start_time", "end_time"} <= set(response.json())


def test_weekly_with_one_off_fields_is_400_naming_them(as_counselor, base, no_new_windows):
    refused(weekly(as_counselor, start=base.isoformat()), "start")


def test_one_off_with_weekly_fields_is_400_naming_them(as_counselor, base, no_new_windows):
    body = {"start": base.isoformat(), "end": (base + H).isoformat(), "start_time": "10:00"}
    refused(as_counselor.post(URL, body, format="json"), "start_time")


def test_one_off_with_timezone_is_400_naming_timezone(as_counselor, base, no_new_windows):
    body = {"start": base.isoformat(), "end": (base + H).isoformat(), "timezone": "Europe/Berlin"}
    refused(as_counselor.post(URL, body, format="json"), "timezone")


@pytest.mark.parametrize("weekday", [7, -1])
def test_weekly_weekday_out_of_range_is_400(as_counselor, no_new_windows, weekday):
    refused(weekly(as_counselor, weekday=weekday), "weekday")


def test_weekly_start_time_not_on_quarter_hour_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, start_time="18:10"), "start_time")


def test_weekly_end_time_not_on_quarter_hour_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, end_time="19:59"), "end_time")


def test_weekly_end_before_start_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, start_time="18:00", end_time="17:00"), "end_time")


def test_weekly_end_equal_to_start_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, start_time="18:00", end_time="18:00"), "end_time")


def test_weekly_longer_than_12_hours_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, start_time="08:00", end_time="20:15"), "end_time")


def test_weekly_bad_timezone_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, timezone="Europe/Atlantis"), "timezone")


def test_weekly_valid_until_in_the_past_is_400(as_counselor, no_new_windows):
    past = local_today("Asia/Shanghai") - dt.timedelta(days=1)
    refused(
        weekly(
            as_counselor,
            valid_from=(past - dt.timedelta(days=30)).isoformat(),
            valid_until=past.isoformat(),
        ),
        "valid_until",
    )


def test_weekly_valid_until_before_valid_from_is_400(as_counselor, no_new_windows):
    today = local_today("Asia/Shanghai")
    refused(
        weekly(
            as_counselor,
            valid_from=(today + dt.timedelta(days=10)).isoformat(),
            valid_until=(today + dt.timedelta(days=5)).isoformat(),
        ),
        "valid_until",
    )


def test_weekly_bad_time_format_is_400(as_counselor, no_new_windows):
    refused(weekly(as_counselor, start_time="six pm"), "start_time")


def test_weekly_errors_are_reported_together(as_counselor, no_new_windows):
    """The contract: the body names each bad field, not just the first one found."""
    past = local_today("Asia/Shanghai") - dt.timedelta(days=1)
    response = weekly(
        as_counselor,
        start_time="18:10",
        valid_from=(past - dt.timedelta(days=7)).isoformat(),
        valid_until=past.isoformat(),
    )
    assert response.status_code == 400
    assert {"start_time", "valid_until"} <= set(response.json())


def test_one_off_errors_are_reported_together(as_counselor, base, no_new_windows):
    response = one_off(as_counselor, base + dt.timedelta(minutes=5), base - H)
    assert response.status_code == 400
    assert {"start", "end"} <= set(response.json())


# --- merging ------------------------------------------------------------------------------------


def test_overlapping_one_off_windows_merge_into_one(as_other_counselor, base):
    one_off(as_other_counselor, base, base + 2 * H)
    response = one_off(as_other_counselor, base + H, base + 3 * H)
    assert response.status_code == 201
    windows = listed(as_other_counselor)
    assert len(windows) == 1
    assert (parse(windows[0]["start"]), parse(windows[0]["end"])) == (base, base + 3 * H)
    assert parse(response.json()["start"]) == base and parse(response.json()["end"]) == base + 3 * H


def test_touching_one_off_windows_merge_into_one(as_other_counselor, base):
    one_off(as_other_counselor, base, base + H)
    one_off(as_other_counselor, base + H, base + 2 * H)
    windows = listed(as_other_counselor)
    assert len(windows) == 1
    assert (parse(windows[0]["start"]), parse(windows[0]["end"])) == (base, base + 2 * H)


def test_window_touching_from_before_merges_too(as_other_counselor, base):
    one_off(as_other_counselor, base + H, base + 2 * H)
    one_off(as_other_counselor, base, base + H)
    windows = listed(as_other_counselor)
    assert [(parse(w["start"]), parse(w["end"])) for w in windows] == [(base, base + 2 * H)]


def test_window_bridging_two_windows_merges_all_three(as_other_counselor, base):
    one_off(as_other_counselor, base, base + H)
    one_off(as_other_counselor, base + 2 * H, base + 3 * H)
    one_off(as_other_counselor, base + H - M15, base + 2 * H + M15)
    windows = listed(as_other_counselor)
    assert [(parse(w["start"]), parse(w["end"])) for w in windows] == [(base, base + 3 * H)]


def test_window_inside_an_existing_one_changes_nothing(as_other_counselor, base):
    one_off(as_other_counselor, base, base + 3 * H)
    one_off(as_other_counselor, base + H, base + 2 * H)
    windows = listed(as_other_counselor)
    assert [(parse(w["start"]), parse(w["end"])) for w in windows] == [(base, base + 3 * H)]


def test_separate_one_off_windows_stay_separate(as_other_counselor, base):
    one_off(as_other_counselor, base, base + H)
    one_off(as_other_counselor, base + H + M15, base + 2 * H)
    assert len(listed(as_other_counselor)) == 2


def test_windows_of_different_counselors_never_merge(
    as_counselor, as_other_counselor, counselor, base
):
    one_off(as_counselor, base, base + H)
    one_off(as_other_counselor, base + dt.timedelta(minutes=30), base + 2 * H)
    mine = [w for w in listed(as_counselor) if parse(w["start"]) >= base]
    assert [(parse(w["start"]), parse(w["end"])) for w in mine] == [(base, base + H)]


def test_overlapping_weekly_windows_with_same_day_and_zone_merge(as_other_counselor):
    weekly(as_other_counselor, weekday=4, start_time="18:00", end_time="20:00")
    response = weekly(as_other_counselor, weekday=4, start_time="19:00", end_time="21:30")
    assert response.status_code == 201
    windows = listed(as_other_counselor)
    assert len(windows) == 1
    assert (windows[0]["start_time"], windows[0]["end_time"]) == ("18:00:00", "21:30:00")


def test_touching_weekly_windows_merge(as_other_counselor):
    weekly(as_other_counselor, weekday=4, start_time="18:00", end_time="19:00")
    weekly(as_other_counselor, weekday=4, start_time="19:00", end_time="20:00")
    windows = listed(as_other_counselor)
    assert [(w["start_time"], w["end_time"]) for w in windows] == [("18:00:00", "20:00:00")]


def test_weekly_window_reaching_midnight_merges_and_keeps_midnight_end(as_other_counselor):
    weekly(as_other_counselor, weekday=4, start_time="22:00", end_time="00:00")
    weekly(as_other_counselor, weekday=4, start_time="20:00", end_time="22:30")
    windows = listed(as_other_counselor)
    assert [(w["start_time"], w["end_time"]) for w in windows] == [("20:00:00", "00:00:00")]


def test_weekly_windows_on_different_weekdays_stay_separate(as_other_counselor):
    weekly(as_other_counselor, weekday=4, start_time="18:00", end_time="20:00")
    weekly(as_other_counselor, weekday=5, start_time="18:00", end_time="20:00")
    assert len(listed(as_other_counselor)) == 2


def test_weekly_windows_in_different_zones_stay_separate(as_other_counselor):
    weekly(
        as_other_counselor,
        weekday=4,
        start_time="18:00",
        end_time="20:00",
        timezone="Europe/Berlin",
    )
    weekly(
        as_other_counselor,
        weekday=4,
        start_time="18:00",
        end_time="20:00",
        timezone="Europe/London",
    )
    assert len(listed(as_other_counselor)) == 2


# --- reading and deleting -----------------------------------------------------------------------


def test_list_shows_only_own_windows(as_counselor, counselor, other_counselor):
    theirs = OneOffWindowFactory(counselor=other_counselor)
    ids = [w["id"] for w in listed(as_counselor)]
    assert ids == [counselor.windows.get().pk]
    assert theirs.pk not in ids


def test_get_own_window(as_counselor, counselor):
    window = counselor.windows.get()
    response = as_counselor.get(f"{URL}{window.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == window.pk
    assert parse(response.json()["start"]) == window.start


def test_delete_own_window(as_counselor, counselor):
    window = counselor.windows.get()
    response = as_counselor.delete(f"{URL}{window.pk}/")
    assert response.status_code == 204
    assert not AvailabilityWindow.objects.filter(pk=window.pk).exists()


def test_deleting_a_window_keeps_existing_booking(as_counselor, counselor):
    window = counselor.windows.get()
    booking = BookingFactory(counselor=counselor, start=window.start)
    assert as_counselor.delete(f"{URL}{window.pk}/").status_code == 204
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.start, booking.end) == (window.start, window.start + dt.timedelta(minutes=30))


def test_deleting_a_window_removes_its_slots(as_counselor, anon, counselor):
    window = counselor.windows.get()
    as_counselor.delete(f"{URL}{window.pk}/")
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/slots/").json() == []


def test_other_counselors_window_is_404_on_get(as_counselor, other_counselor):
    theirs = OneOffWindowFactory(counselor=other_counselor)
    assert as_counselor.get(f"{URL}{theirs.pk}/").status_code == 404


def test_other_counselors_window_is_404_on_delete_and_stays(as_counselor, other_counselor):
    theirs = OneOffWindowFactory(counselor=other_counselor)
    assert as_counselor.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert AvailabilityWindow.objects.filter(pk=theirs.pk).exists()


def test_unknown_window_is_404(as_counselor):
    assert as_counselor.get(f"{URL}987654/").status_code == 404
    assert as_counselor.delete(f"{URL}987654/").status_code == 404


def test_weekly_window_detail(as_other_counselor, other_counselor):
    window = WeeklyWindowFactory(counselor=other_counselor, weekday=6)
    body = as_other_counselor.get(f"{URL}{window.pk}/").json()
    assert (body["kind"], body["weekday"], body["timezone"]) == ("weekly", 6, "Europe/Berlin")


# --- roles --------------------------------------------------------------------------------------


def test_client_gets_403_listing_windows(as_client):
    assert as_client.get(URL).status_code == 403


def test_client_gets_403_creating_window(as_client, base):
    assert one_off(as_client, base, base + H).status_code == 403
    assert not AvailabilityWindow.objects.exists()


def test_client_gets_403_on_window_detail_and_delete(as_client, counselor):
    window = counselor.windows.get()
    assert as_client.get(f"{URL}{window.pk}/").status_code == 403
    assert as_client.delete(f"{URL}{window.pk}/").status_code == 403
    assert AvailabilityWindow.objects.filter(pk=window.pk).exists()


def test_staff_gets_403_creating_window(as_staff, base):
    assert one_off(as_staff, base, base + H).status_code == 403


def test_anonymous_gets_401_on_windows(anon):
    assert anon.get(URL).status_code == 401
