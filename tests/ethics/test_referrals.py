"""Referrals: a counselor refers the client of their own session to a directory resource;
the client accepts or declines; an accepted referral gets a check-in after seven days."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from ethics.models import Referral, Resource
from oversight import services as review
from tests.factories import BookingFactory, ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource(db):
    return Resource.objects.create(
        kind=Resource.Kind.LONG_TERM_COUNSELING,
        name="City counselling centre",
        region="CN",
        language="zh",
        contact="010-00000000",
        source="test",
        last_verified=dt.date(2025, 1, 1),
    )


@pytest.fixture
def booking(counselor, client_user):
    return BookingFactory(counselor=counselor, client=client_user)


def refer(api, booking, resource, **extra):
    body = {
        "booking": booking.pk,
        "resource": resource.pk,
        "reason": "longer-term work on grief",
        "urgency": "soon",
        **extra,
    }
    return api.post("/api/v1/referrals/", body, format="json")


def test_counselor_refers_the_client_of_their_booking(
    as_counselor, booking, resource, client_user, counselor
):
    response = refer(as_counselor, booking, resource)
    assert response.status_code == 201, response.data
    assert response.data["status"] == "pending"
    assert response.data["urgency"] == "soon"
    assert response.data["client"] == client_user.pk
    assert response.data["counselor"] == counselor.pk
    assert response.data["resource"]["name"] == "City counselling centre"


def test_someone_elses_booking_is_404_and_a_client_is_403(
    as_other_counselor, as_client, booking, resource
):
    assert refer(as_other_counselor, booking, resource).status_code == 404
    assert refer(as_client, booking, resource).status_code == 403
    assert not Referral.objects.exists()


def test_bad_input_names_the_fields(as_counselor, booking, resource):
    response = refer(as_counselor, booking, resource, urgency="whenever", reason="")
    assert response.status_code == 400
    assert {"urgency", "reason"} <= set(response.data)
    resource.is_active = False
    resource.save()
    response = refer(as_counselor, booking, resource)
    assert response.status_code == 400 and "resource" in response.data


def test_the_same_referral_twice_is_409(as_counselor, booking, resource):
    assert refer(as_counselor, booking, resource).status_code == 201
    response = refer(as_counselor, booking, resource)
    assert response.status_code == 409 and response.data["code"] == "duplicate_referral"


def test_lists_show_own_referrals_only(
    as_counselor, as_client, as_other_client, as_other_counselor, booking, resource
):
    refer(as_counselor, booking, resource)
    assert as_counselor.get("/api/v1/referrals/").data["count"] == 1
    assert as_client.get("/api/v1/referrals/").data["count"] == 1
    assert as_other_client.get("/api/v1/referrals/").data["count"] == 0
    assert as_other_counselor.get("/api/v1/referrals/").data["count"] == 0


def test_client_accepts_once(
    as_counselor, as_client, booking, resource, django_capture_on_commit_callbacks
):
    referral_id = refer(as_counselor, booking, resource).data["id"]
    with (
        mock.patch("oversight.tasks.referral_follow_up.apply_async") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = as_client.post(f"/api/v1/referrals/{referral_id}/accept/")
    assert response.status_code == 200 and response.data["status"] == "accepted"
    referral = Referral.objects.get(pk=referral_id)
    assert referral.follow_up_due_at == referral.responded_at + dt.timedelta(days=7)
    schedule.assert_called_once_with((referral_id,), eta=referral.follow_up_due_at)
    again = as_client.post(f"/api/v1/referrals/{referral_id}/accept/")
    assert again.status_code == 409 and again.data["code"] == "already_answered"
    assert as_client.post(f"/api/v1/referrals/{referral_id}/decline/").status_code == 409


def test_client_declines(as_counselor, as_client, booking, resource):
    referral_id = refer(as_counselor, booking, resource).data["id"]
    response = as_client.post(f"/api/v1/referrals/{referral_id}/decline/")
    assert response.status_code == 200 and response.data["status"] == "declined"
    assert Referral.objects.get(pk=referral_id).follow_up_due_at is None
    # A declined referral may be made again.
    assert refer(as_counselor, booking, resource).status_code == 201


def test_only_the_referred_client_answers(as_counselor, as_other_client, booking, resource):
    referral_id = refer(as_counselor, booking, resource).data["id"]
    assert as_counselor.post(f"/api/v1/referrals/{referral_id}/accept/").status_code == 403
    assert as_other_client.post(f"/api/v1/referrals/{referral_id}/accept/").status_code == 404
    assert as_other_client.post(f"/api/v1/referrals/{referral_id}/decline/").status_code == 404
    assert Referral.objects.get(pk=referral_id).status == "pending"


def test_follow_up_is_sent_once_after_seven_days(booking, resource, counselor, client_user):
    referral = review.referral_create(
        counselor=counselor.user,
        booking_id=booking.pk,
        resource_id=resource.pk,
        reason="grief",
        urgency="routine",
    )
    accepted = timezone.now()
    with time_machine.travel(accepted, tick=False):
        review.referral_accept(client=client_user, referral_id=referral.pk)
    with time_machine.travel(accepted + dt.timedelta(days=7) - dt.timedelta(minutes=1), tick=False):
        assert review.referral_follow_up(referral_id=referral.pk) is False
        assert review.referrals_follow_up_due() == 0
    assert mail.outbox == []
    with time_machine.travel(accepted + dt.timedelta(days=7, seconds=1), tick=False):
        assert review.referral_follow_up(referral_id=referral.pk) is True
        assert review.referral_follow_up(referral_id=referral.pk) is False  # a redelivered task
        assert review.referrals_follow_up_due() == 0
    referral.refresh_from_db()
    assert referral.follow_up_sent_at is not None  # the in-app record
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [client_user.email]
    assert "City counselling centre" in mail.outbox[0].subject


def test_sweep_sends_due_follow_ups_and_skips_clients_without_email(booking, resource, counselor):
    quiet = ClientFactory(email="")
    other_booking = BookingFactory(
        counselor=counselor, client=quiet, start=booking.start + dt.timedelta(hours=1)
    )
    accepted = timezone.now()
    with time_machine.travel(accepted, tick=False):
        for b, client in ((booking, booking.client), (other_booking, quiet)):
            r = review.referral_create(
                counselor=counselor.user, booking_id=b.pk, resource_id=resource.pk, reason="grief"
            )
            review.referral_accept(client=client, referral_id=r.pk)
    with time_machine.travel(accepted + dt.timedelta(days=8), tick=False):
        assert review.referrals_follow_up_due() == 2
        assert review.referrals_follow_up_due() == 0
    assert len(mail.outbox) == 1
    assert Referral.objects.filter(follow_up_sent_at__isnull=False).count() == 2


def test_pending_and_declined_referrals_get_no_follow_up(booking, resource, counselor, client_user):
    referral = review.referral_create(
        counselor=counselor.user, booking_id=booking.pk, resource_id=resource.pk, reason="grief"
    )
    with time_machine.travel(timezone.now() + dt.timedelta(days=30), tick=False):
        assert review.referral_follow_up(referral_id=referral.pk) is False
    review.referral_decline(client=client_user, referral_id=referral.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(days=30), tick=False):
        assert review.referrals_follow_up_due() == 0
    assert mail.outbox == []
