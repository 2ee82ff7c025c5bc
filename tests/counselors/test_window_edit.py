import datetime as dt

import pytest

from listening.models import Booking
from tests.factories import BookingFactory, next_quarter

pytestmark = pytest.mark.django_db

URL = "/api/v1/counselors/me/windows/"
H = dt.timedelta(hours=1)


@pytest.fixture
def base():
    return next_quarter(days=2).replace(minute=0)


def create(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_editing_a_one_off_window_moves_its_end_and_keeps_its_id(as_counselor, base):
    window = create(as_counselor, {"start": base.isoformat(), "end": (base + H).isoformat()})
    response = as_counselor.patch(
        f"{URL}{window['id']}/", {"end": (base + 2 * H).isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == window["id"]
    assert dt.datetime.fromisoformat(response.json()["end"]) == base + 2 * H


def test_editing_a_weekly_window_changes_its_times(as_counselor):
    window = create(as_counselor, {"weekday": 1, "start_time": "18:00", "end_time": "19:00"})
    response = as_counselor.patch(f"{URL}{window['id']}/", {"end_time": "20:30"}, format="json")
    assert response.status_code == 200
    assert response.json()["end_time"] == "20:30:00"
    assert response.json()["weekday"] == 1


def test_editing_validates_like_creating(as_counselor, base):
    window = create(as_counselor, {"start": base.isoformat(), "end": (base + H).isoformat()})
    response = as_counselor.patch(
        f"{URL}{window['id']}/", {"end": (base + 13 * H).isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "end" in response.json()
    assert as_counselor.get(f"{URL}{window['id']}/").json()["end"] == window["end"]


def test_editing_with_fields_of_the_other_kind_is_400(as_counselor, base):
    window = create(as_counselor, {"start": base.isoformat(), "end": (base + H).isoformat()})
    response = as_counselor.patch(f"{URL}{window['id']}/", {"weekday": 3}, format="json")
    assert response.status_code == 400
    assert "weekday" in response.json()


def test_editing_into_a_neighbour_merges_them(as_counselor, base):
    first = create(as_counselor, {"start": base.isoformat(), "end": (base + H).isoformat()})
    second = create(
        as_counselor, {"start": (base + 2 * H).isoformat(), "end": (base + 3 * H).isoformat()}
    )
    as_counselor.patch(f"{URL}{first['id']}/", {"end": (base + 2 * H).isoformat()}, format="json")
    ids = {w["id"] for w in as_counselor.get(URL).json()["results"]}
    assert first["id"] in ids and second["id"] not in ids
    merged = as_counselor.get(f"{URL}{first['id']}/").json()
    assert dt.datetime.fromisoformat(merged["start"]) == base
    assert dt.datetime.fromisoformat(merged["end"]) == base + 3 * H


def test_shrinking_a_window_leaves_its_bookings_alone(as_counselor, counselor, base):
    window = create(as_counselor, {"start": base.isoformat(), "end": (base + 2 * H).isoformat()})
    booking = BookingFactory(
        counselor=counselor, start=base + H, end=base + H + dt.timedelta(minutes=30)
    )
    as_counselor.patch(f"{URL}{window['id']}/", {"end": (base + H).isoformat()}, format="json")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.start == base + H


def test_editing_another_counselors_window_is_404(as_other_counselor, as_counselor, base):
    window = create(as_counselor, {"start": base.isoformat(), "end": (base + H).isoformat()})
    response = as_other_counselor.patch(
        f"{URL}{window['id']}/", {"end": (base + 2 * H).isoformat()}, format="json"
    )
    assert response.status_code == 404
