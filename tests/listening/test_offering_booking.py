"""Booking a counselor's offering: its price and duration follow from it, and a bad or
withdrawn offering is refused with nothing made."""

import datetime as dt

import pytest

from counselors.models import Offering
from listening.models import Booking
from tests.factories import OfferingFactory, StaffFactory

pytestmark = pytest.mark.django_db


def book(api, counselor, **overrides):
    body = {
        "counselor": counselor.pk,
        "start": counselor.windows.get().start.isoformat(),
        "mode": "text",
        "topic": "work stress",
    }
    body.update(overrides)
    return api.post("/api/v1/bookings/", body, format="json")


@pytest.fixture
def offering(counselor):
    return OfferingFactory(counselor=counselor, duration_minutes=15, price=38, modes=["text"])


def test_offering_booking_takes_the_offerings_price_and_duration(as_client, counselor, offering):
    response = book(as_client, counselor, offering=offering.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["offering"] == offering.pk
    assert body["duration_minutes"] == 15
    assert body["price"] == 38
    booking = Booking.objects.get()
    assert booking.end - booking.start == dt.timedelta(minutes=15)
    assert booking.offering_id == offering.pk


def test_offering_booking_accepts_the_offerings_own_duration(as_client, counselor, offering):
    response = book(as_client, counselor, offering=offering.pk, duration_minutes=15)
    assert response.status_code == 201


def test_offering_booking_with_another_duration_gets_400(as_client, counselor, offering):
    response = book(as_client, counselor, offering=offering.pk, duration_minutes=30)
    assert response.status_code == 400
    assert "duration_minutes" in response.json()
    assert not Booking.objects.exists()


def test_offering_booking_in_a_mode_it_does_not_offer_gets_400(as_client, counselor, offering):
    counselor.modes = ["text", "voice"]
    counselor.save()
    response = book(as_client, counselor, offering=offering.pk, mode="voice")
    assert response.status_code == 400
    assert "mode" in response.json()
    assert not Booking.objects.exists()


def test_missing_offering_gets_400(as_client, counselor):
    response = book(as_client, counselor, offering=999999)
    assert response.status_code == 400
    assert "offering" in response.json()
    assert not Booking.objects.exists()


def test_another_counselors_offering_gets_400(as_client, counselor, other_counselor):
    theirs = OfferingFactory(counselor=other_counselor)
    response = book(as_client, counselor, offering=theirs.pk)
    assert response.status_code == 400
    assert "offering" in response.json()


@pytest.mark.parametrize("status", [Offering.Status.WITHDRAWN, Offering.Status.UNPUBLISHED])
def test_withdrawn_or_unpublished_offering_gets_409(as_client, counselor, offering, status):
    offering.status = status
    offering.unpublished_reason = "misleading title" if status == "unpublished" else ""
    offering.unpublished_by = StaffFactory() if status == "unpublished" else None
    offering.save()
    response = book(as_client, counselor, offering=offering.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "offering_unavailable"
    assert not Booking.objects.exists()


def test_booking_without_duration_or_offering_gets_400(as_client, counselor):
    response = book(as_client, counselor)
    assert response.status_code == 400
    assert "duration_minutes" in response.json()


def test_regular_booking_still_takes_the_profile_price(as_client, counselor):
    response = book(as_client, counselor, duration_minutes=30)
    assert response.status_code == 201
    assert response.json()["price"] == float(counselor.price_30)
    assert response.json()["offering"] is None


def test_offering_session_cannot_change_its_length_on_reschedule(as_client, counselor, offering):
    booking_id = book(as_client, counselor, offering=offering.pk).json()["id"]
    start = counselor.windows.get().start + dt.timedelta(hours=1)
    response = as_client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/",
        {"start": start.isoformat(), "duration_minutes": 30},
        format="json",
    )
    assert response.status_code == 400
    assert "duration_minutes" in response.json()
    moved = as_client.post(
        f"/api/v1/bookings/{booking_id}/reschedule/", {"start": start.isoformat()}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["price"] == 38  # the offering's price stays


def test_booking_page_with_an_offering_books_it(client, client_user, counselor, offering):
    client.force_login(client_user)
    start = counselor.windows.get().start
    page = client.get(
        f"/counselors/{counselor.pk}/book/", {"start": start.isoformat(), "offering": offering.pk}
    )
    assert page.status_code == 200
    assert offering.title_en in page.content.decode()
    response = client.post(
        f"/counselors/{counselor.pk}/book/",
        {
            "start": start.isoformat(),
            "offering": offering.pk,
            "duration_minutes": 15,
            "mode": "text",
            "topic": "work stress",
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.offering_id == offering.pk and booking.price == 38
