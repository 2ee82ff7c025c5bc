import datetime as dt

import pytest
from django.utils import timezone

from ethics.models import EthicsFlag
from tests.conftest import api_as
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db

GOOD = {"pre_distress": 7, "post_distress": 4, "rating": 5, "comment": "Helped a lot"}


def past_booking(hours_ago: int = 2, **kwargs):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=hours_ago)
    return BookingFactory(
        start=start, end=start + dt.timedelta(minutes=30), status="completed", **kwargs
    )


def feedback(booking, body=GOOD, user=None):
    return api_as(user or booking.client).post(
        f"/api/v1/bookings/{booking.pk}/feedback/", body, format="json"
    )


def test_client_rates_a_past_session_and_the_counselor_rating_moves():
    booking = past_booking()
    assert feedback(booking).status_code == 201
    booking.counselor.refresh_from_db()
    assert booking.counselor.review_count == 1 and float(booking.counselor.rating) == 5.0


def test_feedback_before_the_session_is_409():
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    response = feedback(booking)
    assert response.status_code == 409 and response.json()["code"] == "not_after_session"


def test_feedback_twice_is_409():
    booking = past_booking()
    feedback(booking)
    assert feedback(booking).status_code == 409


@pytest.mark.parametrize(
    ("field", "value"), [("rating", 0), ("rating", 6), ("pre_distress", 11), ("post_distress", -1)]
)
def test_feedback_out_of_range_is_400_naming_the_field(field, value):
    booking = past_booking()
    response = feedback(booking, {**GOOD, field: value})
    assert response.status_code == 400 and field in response.json()


def test_only_the_booking_client_gives_feedback():
    booking = past_booking()
    assert feedback(booking, user=booking.counselor.user).status_code == 403
    assert feedback(booking, user=ClientFactory()).status_code == 404


def test_three_ratings_of_one_in_a_row_open_a_quality_flag():
    counselor = CounselorProfileFactory()
    bookings = [past_booking(hours_ago=2 + i, counselor=counselor) for i in range(3)]
    for booking in bookings[:2]:
        feedback(booking, {**GOOD, "rating": 1})
    assert not EthicsFlag.objects.filter(kind="quality").exists()
    feedback(bookings[2], {**GOOD, "rating": 1})
    flag = EthicsFlag.objects.get(kind="quality")
    assert flag.counselor == counselor


def test_either_participant_reports_a_dual_relationship():
    booking = past_booking()
    response = api_as(booking.counselor.user).post(
        "/api/v1/ethics/reports/",
        {
            "booking": booking.pk,
            "kind": "dual-relationship",
            "text": "The client is my neighbour's son.",
        },
        format="json",
    )
    assert response.status_code == 201
    flag = EthicsFlag.objects.get(kind="dual-relationship")
    assert flag.booking == booking and "counselor" in flag.summary


def test_boundary_report_on_someone_elses_booking_is_404():
    booking = past_booking()
    response = api_as(ClientFactory()).post(
        "/api/v1/ethics/reports/",
        {"booking": booking.pk, "kind": "boundary", "text": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert not EthicsFlag.objects.exists()


def test_report_of_an_unknown_kind_is_400():
    booking = past_booking()
    response = api_as(booking.client).post(
        "/api/v1/ethics/reports/",
        {"booking": booking.pk, "kind": "crisis", "text": "x"},
        format="json",
    )
    assert response.status_code == 400 and "kind" in response.json()


def test_a_feedback_comment_with_a_crisis_signal_raises_an_alert():
    from ethics.models import CrisisAlert

    booking = past_booking()
    assert (
        feedback(
            booking, {**GOOD, "comment": "thank you, but I still want to kill myself"}
        ).status_code
        == 201
    )
    alert = CrisisAlert.objects.get(booking=booking)
    assert alert.client == booking.client and any("feedback" in r for r in alert.reasons)
