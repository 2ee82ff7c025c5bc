"""Complaints: a client's complaint about their own session opens a `complaint` flag, and
crisis language in it raises a crisis alert in the same transaction."""

import pytest

from ethics.models import Complaint, CrisisAlert, EthicsFlag
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(counselor, client_user):
    return BookingFactory(counselor=counselor, client=client_user)


def complain(api, booking, text="The counselor kept checking their phone."):
    return api.post(
        "/api/v1/ethics/complaints/", {"booking": booking.pk, "text": text}, format="json"
    )


def test_client_complaint_opens_a_flag(as_client, booking, counselor):
    response = complain(as_client, booking)
    assert response.status_code == 201, response.data
    assert response.data["status"] == "open"
    flag = EthicsFlag.objects.get()
    assert (flag.kind, flag.booking_id, flag.counselor_id) == (
        "complaint",
        booking.pk,
        counselor.pk,
    )
    assert flag.complaint.text == "The counselor kept checking their phone."
    assert not CrisisAlert.objects.exists()


def test_someone_elses_booking_is_404(as_other_client, booking):
    assert complain(as_other_client, booking).status_code == 404
    assert not EthicsFlag.objects.exists()


def test_only_clients_complain(as_counselor, as_staff, booking):
    assert complain(as_counselor, booking).status_code == 403
    assert complain(as_staff, booking).status_code == 403


def test_empty_text_is_400(as_client, booking):
    response = complain(as_client, booking, text="")
    assert response.status_code == 400 and "text" in response.data
    response = as_client.post("/api/v1/ethics/complaints/", {"text": "x"}, format="json")
    assert response.status_code == 400 and "booking" in response.data


def test_crisis_language_raises_an_alert_with_the_complaint(
    as_client, booking, django_capture_on_commit_callbacks
):
    response = complain(
        as_client, booking, text="The session made it worse. I want to kill myself."
    )
    assert response.status_code == 201
    alert = CrisisAlert.objects.get()
    assert (alert.source, alert.booking_id, alert.client_id) == (
        "complaint",
        booking.pk,
        booking.client_id,
    )
    assert alert.reasons
    assert Complaint.objects.get().crisis_alert_id == alert.pk
    assert set(EthicsFlag.objects.values_list("kind", flat=True)) == {"complaint", "crisis"}


def test_chinese_crisis_language_is_caught_too(as_client, booking):
    assert complain(as_client, booking, text="咨询师不理我，我不想活了").status_code == 201
    assert CrisisAlert.objects.filter(source="complaint").count() == 1
