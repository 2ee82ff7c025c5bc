import datetime as dt

import pytest
from django.utils import timezone

from listening.models import Booking
from tests.conftest import api_as
from tests.factories import (
    BookingFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)

pytestmark = pytest.mark.django_db


def window_start(counselor):
    return counselor.windows.get().start


def book(api, counselor_id, start, **overrides):
    body = {
        "counselor": counselor_id,
        "start": start.isoformat() if isinstance(start, dt.datetime) else start,
        "duration_minutes": 30,
        "mode": "text",
        "topic": "exam stress",
    }
    body.update(overrides)
    return api.post("/api/v1/bookings/", body, format="json")


def test_client_books_a_free_slot(as_client, counselor):
    start = window_start(counselor)
    response = book(as_client, counselor.pk, start, note="first time")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["counselor"] == counselor.pk
    assert body["duration_minutes"] == 30
    assert body["price"] == 100
    assert dt.datetime.fromisoformat(body["start"]) == start
    assert dt.datetime.fromisoformat(body["end"]) == start + dt.timedelta(minutes=30)
    assert Booking.objects.get().note == "first time"


def test_booking_accepts_a_start_given_in_another_offset(as_client, counselor):
    start = window_start(counselor).astimezone(dt.timezone(dt.timedelta(hours=8)))
    response = book(as_client, counselor.pk, start.isoformat())
    assert response.status_code == 201
    assert Booking.objects.get().start == start


def test_second_client_gets_409_for_taken_slot(as_client, as_other_client, counselor):
    start = window_start(counselor)
    assert book(as_client, counselor.pk, start).status_code == 201
    response = book(as_other_client, counselor.pk, start + dt.timedelta(minutes=15))
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert Booking.objects.count() == 1


def test_client_cannot_hold_two_overlapping_bookings_with_different_counselors(
    as_client, counselor
):
    start = window_start(counselor)
    second = CounselorProfileFactory()
    OneOffWindowFactory(counselor=second, start=start, end=start + dt.timedelta(hours=1))
    assert book(as_client, counselor.pk, start).status_code == 201
    response = book(as_client, second.pk, start + dt.timedelta(minutes=15), duration_minutes=15)
    assert response.status_code == 409
    assert response.json()["code"] == "client_overlap"
    assert Booking.objects.count() == 1


def test_back_to_back_bookings_are_allowed(as_client, as_other_client, counselor):
    start = window_start(counselor)
    assert book(as_client, counselor.pk, start).status_code == 201
    assert book(as_other_client, counselor.pk, start + dt.timedelta(minutes=30)).status_code == 201


def test_buffer_between_sessions_is_kept(as_client, as_other_client, counselor):
    counselor.buffer_minutes = 15
    counselor.save()
    start = window_start(counselor)
    assert book(as_client, counselor.pk, start).status_code == 201
    response = book(as_other_client, counselor.pk, start + dt.timedelta(minutes=30))
    assert response.status_code == 409
    assert book(as_other_client, counselor.pk, start + dt.timedelta(minutes=45)).status_code == 201


def test_cancelled_booking_frees_the_slot(as_client, as_other_client, counselor):
    start = window_start(counselor)
    booking_id = book(as_client, counselor.pk, start).json()["id"]
    assert (
        as_client.post(
            f"/api/v1/bookings/{booking_id}/cancel/", {"reason": "exam moved"}, format="json"
        ).status_code
        == 200
    )
    assert book(as_other_client, counselor.pk, start).status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start": "later"}, "start"),
        ({"start": "2030-01-01T10:00:00"}, "start"),  # no UTC offset
        ({"duration_minutes": 45}, "duration_minutes"),
        ({"duration_minutes": "thirty"}, "duration_minutes"),
        ({"mode": "telepathy"}, "mode"),
        ({"topic": ""}, "topic"),
        ({"topic": "x" * 121}, "topic"),
        ({"note": "x" * 1001}, "note"),
        ({"counselor": "chen"}, "counselor"),
        ({"counselor": 999999}, "counselor"),
    ],
)
def test_malformed_booking_gets_400_naming_the_field(as_client, counselor, overrides, field):
    body = {"start": window_start(counselor), **overrides}
    response = book(as_client, body.pop("counselor", counselor.pk), body.pop("start"), **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("field", ["counselor", "start", "duration_minutes", "mode", "topic"])
def test_missing_booking_field_gets_400_naming_it(as_client, counselor, field):
    body = {
        "counselor": counselor.pk,
        "start": window_start(counselor).isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "t",
    }
    del body[field]
    response = as_client.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_start_off_the_quarter_hour_gets_400(as_client, counselor):
    response = book(as_client, counselor.pk, window_start(counselor) + dt.timedelta(minutes=5))
    assert response.status_code == 400
    assert "quarter" in response.json()["start"][0]


def test_start_in_the_past_gets_400(as_client, counselor):
    response = book(as_client, counselor.pk, next_quarter() - dt.timedelta(hours=1))
    assert response.status_code == 400
    assert "past" in response.json()["start"][0]


def test_start_inside_minimum_notice_gets_400(as_client):
    counselor = CounselorProfileFactory(min_notice_minutes=120)
    start = next_quarter() + dt.timedelta(minutes=30)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=2))
    response = book(as_client, counselor.pk, start)
    assert response.status_code == 400
    assert "notice" in response.json()["start"][0]


def test_start_outside_the_windows_gets_400(as_client, counselor):
    response = book(as_client, counselor.pk, window_start(counselor) + dt.timedelta(hours=5))
    assert response.status_code == 400
    assert "availability" in response.json()["start"][0]


def test_session_running_past_the_window_end_gets_400(as_client, counselor):
    response = book(
        as_client, counselor.pk, window_start(counselor) + dt.timedelta(hours=2, minutes=45)
    )
    assert response.status_code == 400


def test_mode_the_counselor_does_not_offer_gets_400(as_client):
    counselor = CounselorProfileFactory(modes=["text"])
    window = OneOffWindowFactory(counselor=counselor)
    response = book(as_client, counselor.pk, window.start, mode="video")
    assert response.status_code == 400
    assert "mode" in response.json()


def test_unverified_counselor_cannot_be_booked(as_client):
    counselor = CounselorProfileFactory(verification="pending")
    window = OneOffWindowFactory(counselor=counselor)
    response = book(as_client, counselor.pk, window.start)
    assert response.status_code == 400
    assert "counselor" in response.json()


def test_suspended_counselor_cannot_be_booked(as_client):
    counselor = CounselorProfileFactory(user__is_active=False)
    window = OneOffWindowFactory(counselor=counselor)
    assert book(as_client, counselor.pk, window.start).status_code == 400


def test_daily_cap_gets_400_once_reached(as_client, as_other_client, counselor):
    counselor.daily_cap = 1
    counselor.save()
    start = window_start(counselor)
    assert book(as_client, counselor.pk, start).status_code == 201
    # Right after the first: the same local day even when the window starts at 23:00 in
    # the counselor's zone (a run at about 15:00 UTC), where an hour later is the next day.
    response = book(as_other_client, counselor.pk, start + dt.timedelta(minutes=30))
    assert response.status_code == 400
    assert "full" in response.json()["start"][0]


def test_counselor_cannot_book(as_counselor, other_counselor, counselor):
    assert book(as_counselor, counselor.pk, window_start(counselor)).status_code == 403


def test_anonymous_gets_401(anon, counselor):
    assert book(anon, counselor.pk, window_start(counselor)).status_code == 401
    assert anon.get("/api/v1/bookings/").status_code == 401


def test_bookings_list_shows_only_own_bookings(
    as_client, client_user, other_client_user, counselor
):
    mine = BookingFactory(client=client_user, counselor=counselor)
    BookingFactory(
        client=other_client_user,
        counselor=counselor,
        start=mine.start + dt.timedelta(hours=1),
        end=mine.start + dt.timedelta(hours=1, minutes=30),
    )
    body = as_client.get("/api/v1/bookings/").json()
    assert body["count"] == 1
    assert [b["id"] for b in body["results"]] == [mine.pk]


def test_counselor_lists_the_bookings_made_with_them(as_counselor, counselor, other_counselor):
    mine = BookingFactory(counselor=counselor)
    BookingFactory(counselor=other_counselor)
    body = api_as(counselor.user).get("/api/v1/bookings/").json()
    assert [b["id"] for b in body["results"]] == [mine.pk]


@pytest.mark.parametrize("outsider", ["as_other_client", "as_other_counselor"])
def test_someone_elses_booking_is_404(request, client_user, counselor, outsider):
    booking = BookingFactory(client=client_user, counselor=counselor)
    api = request.getfixturevalue(outsider)
    for url in (f"/api/v1/bookings/{booking.pk}/", f"/api/v1/bookings/{booking.pk}/calendar.ics"):
        assert api.get(url).status_code == 404
    assert api.post(f"/api/v1/bookings/{booking.pk}/cancel/", {}, format="json").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_anonymous_gets_401_for_a_booking(anon, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    assert anon.get(f"/api/v1/bookings/{booking.pk}/").status_code == 401


def test_participants_see_the_booking(as_client, as_counselor, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    assert as_client.get(f"/api/v1/bookings/{booking.pk}/").status_code == 200
    assert as_counselor.get(f"/api/v1/bookings/{booking.pk}/").status_code == 200


def test_cancel_after_start_gets_409(as_client, client_user, counselor):
    start = timezone.now() - dt.timedelta(minutes=5)
    booking = BookingFactory(
        client=client_user, counselor=counselor, start=start, end=start + dt.timedelta(minutes=30)
    )
    response = as_client.post(
        f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "late"}, format="json"
    )
    assert response.status_code == 409
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancel_twice_gets_409(as_client, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    url = f"/api/v1/bookings/{booking.pk}/cancel/"
    assert as_client.post(url, {"reason": "r"}, format="json").status_code == 200
    assert as_client.post(url, {"reason": "r"}, format="json").status_code == 409


def test_cancel_records_who_and_why(as_counselor, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    body = as_counselor.post(
        f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "ill"}, format="json"
    ).json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "ill"
    booking.refresh_from_db()
    assert booking.cancelled_by == counselor.user


def test_overlong_cancel_reason_gets_400(as_client, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    response = as_client.post(
        f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "x" * 501}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_bookings_filter_by_status(as_client, client_user, counselor):
    BookingFactory(client=client_user, counselor=counselor)
    assert as_client.get("/api/v1/bookings/?status=cancelled").json()["count"] == 0
    assert as_client.get("/api/v1/bookings/?status=confirmed").json()["count"] == 1
    assert as_client.get("/api/v1/bookings/?status=nonsense").status_code == 400


def test_second_client_sees_free_slot_disappear_after_booking(as_client, anon, counselor):
    start = window_start(counselor)
    url = f"/api/v1/counselors/{counselor.pk}/slots/?duration=30"
    before = {s["start"] for s in anon.get(url).json()}
    book(as_client, counselor.pk, start + dt.timedelta(minutes=30))
    after = {s["start"] for s in anon.get(url).json()}
    gone = {
        (start + dt.timedelta(minutes=m)).isoformat().replace("+00:00", "Z") for m in (15, 30, 45)
    }
    assert before - after == gone  # the start itself and the two 30-minute starts overlapping it
