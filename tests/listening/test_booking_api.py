import datetime as dt

import pytest

from listening.models import Booking

pytestmark = pytest.mark.django_db


def window_start(counselor):
    return counselor.windows.get().start


def book(api, counselor, start, **overrides):
    body = {"counselor": counselor.pk, "start": start.isoformat(), "duration_minutes": 30, "mode": "text",
            "topic": "exam stress"}
    body.update(overrides)
    return api.post("/api/v1/bookings/", body, format="json")


def test_client_books_a_free_slot(as_client, counselor):
    start = window_start(counselor)
    response = book(as_client, counselor, start)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["counselor"] == counselor.pk
    assert dt.datetime.fromisoformat(body["start"]) == start
    assert dt.datetime.fromisoformat(body["end"]) == start + dt.timedelta(minutes=30)


def test_second_client_gets_409_for_taken_slot(as_client, as_other_client, counselor):
    start = window_start(counselor)
    assert book(as_client, counselor, start).status_code == 201
    response = book(as_other_client, counselor, start + dt.timedelta(minutes=15))
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert Booking.objects.count() == 1
