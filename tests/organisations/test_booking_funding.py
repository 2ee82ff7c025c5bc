"""Listening's side: a member's booking is paid by the allowance (or falls back to self-pay
with the reason), and cancellations and no-shows give it back or use it up by the rule."""

import datetime as dt

import pytest
from django.utils import timezone

from listening.models import Booking
from listening.services import booking_cancel, booking_mark_no_show, session_no_show_check
from organisations.models import AllowanceClaim, MemberQuarter, Refusal
from tests.conftest import api_as
from tests.factories import BookingFactory
from tests.organisations.factories import AllowanceFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def book(api, counselor, start, **overrides):
    body = {
        "counselor": counselor.pk,
        "start": start.isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "exam stress",
        **overrides,
    }
    return api.post("/api/v1/bookings/", body, format="json")


@pytest.fixture
def allowance(client_user):
    allowance = AllowanceFactory(organisation__name="Acme EAP", sessions_per_member=1)
    MembershipFactory(organisation=allowance.organisation, user=client_user)
    return allowance


def start_of(counselor, minutes=0):
    return counselor.windows.get().start + dt.timedelta(minutes=minutes)


def test_a_members_booking_is_paid_by_the_allowance(as_client, counselor, allowance):
    response = book(as_client, counselor, start_of(counselor))
    assert response.status_code == 201, response.json()
    assert response.json()["funding"] == {"kind": "allowance", "organisation": "Acme EAP"}
    booking = Booking.objects.get()
    assert booking.allowance_claim.organisation == allowance.organisation
    listed = as_client.get(f"/api/v1/bookings/{booking.pk}/").json()
    assert listed["funding"]["kind"] == "allowance"
    assert "price" in listed and "status" in listed  # nothing renamed or removed


def test_the_counselor_is_told_a_sponsor_pays_but_not_which(as_client, counselor, allowance):
    booking_id = book(as_client, counselor, start_of(counselor)).json()["id"]
    seen = api_as(counselor.user).get(f"/api/v1/bookings/{booking_id}/").json()
    assert seen["funding"] == {"kind": "allowance"}


def test_when_the_allowance_is_used_up_the_booking_is_self_paid_with_the_reason(
    as_client, counselor, allowance
):
    book(as_client, counselor, start_of(counselor))
    response = book(as_client, counselor, start_of(counselor, 90))
    assert response.status_code == 201
    assert response.json()["funding"] == {
        "kind": "self",
        "note": str(Refusal.MEMBER_USED_UP.label),
    }


def test_a_length_the_allowance_does_not_cover_is_self_paid_with_the_reason(
    as_client, counselor, client_user
):
    allowance = AllowanceFactory(durations=[15])
    MembershipFactory(organisation=allowance.organisation, user=client_user)
    response = book(as_client, counselor, start_of(counselor))
    assert response.json()["funding"] == {"kind": "self", "note": str(Refusal.DURATION.label)}
    assert not AllowanceClaim.objects.exists()


def test_a_non_member_pays_as_before_with_no_note(as_client, counselor):
    response = book(as_client, counselor, start_of(counselor))
    assert response.json()["funding"] == {"kind": "self", "note": ""}


def test_a_booking_that_fails_gives_the_session_back(as_client, counselor, allowance):
    outside = start_of(counselor, 60 * 5)  # outside the window: 400
    assert book(as_client, counselor, outside).status_code == 400
    assert not AllowanceClaim.objects.exists()
    assert not MemberQuarter.objects.filter(used__gt=0).exists()


def used(client_user) -> int:
    return MemberQuarter.objects.get(user=client_user).used


def _sponsored_booking(as_client, counselor) -> Booking:
    book(as_client, counselor, start_of(counselor))
    return Booking.objects.get()


def test_a_client_cancelling_more_than_two_hours_ahead_gets_the_session_back(
    as_client, counselor, allowance, client_user
):
    booking = _sponsored_booking(as_client, counselor)
    booking_cancel(booking_id=booking.pk, user=client_user)
    assert used(client_user) == 0


def test_a_client_cancelling_late_uses_the_session(as_client, counselor, allowance, client_user):
    booking = _sponsored_booking(as_client, counselor)
    Booking.objects.filter(pk=booking.pk).update(
        start=timezone.now() + dt.timedelta(minutes=90),
        end=timezone.now() + dt.timedelta(minutes=120),
    )
    booking_cancel(booking_id=booking.pk, user=client_user)
    assert used(client_user) == 1


def test_a_counselor_cancelling_late_gives_the_session_back(
    as_client, counselor, allowance, client_user
):
    booking = _sponsored_booking(as_client, counselor)
    Booking.objects.filter(pk=booking.pk).update(
        start=timezone.now() + dt.timedelta(minutes=30),
        end=timezone.now() + dt.timedelta(minutes=60),
    )
    booking_cancel(booking_id=booking.pk, user=counselor.user)
    assert used(client_user) == 0


def _past(booking):
    start = timezone.now() - dt.timedelta(minutes=20)
    Booking.objects.filter(pk=booking.pk).update(start=start, end=start + dt.timedelta(minutes=30))


@pytest.mark.parametrize(("party", "left_used"), [("client", 1), ("counselor", 0)])
def test_a_no_show_uses_the_session_only_when_the_client_was_absent(
    as_client, counselor, allowance, client_user, party, left_used
):
    booking = _sponsored_booking(as_client, counselor)
    _past(booking)
    booking_mark_no_show(booking_id=booking.pk, party=party)
    assert used(client_user) == left_used


def test_the_session_clock_finding_the_counselor_absent_gives_the_session_back(
    as_client, counselor, allowance, client_user
):
    booking = _sponsored_booking(as_client, counselor)
    _past(booking)
    Booking.objects.filter(pk=booking.pk).update(client_joined_at=timezone.now())
    assert session_no_show_check(booking_id=booking.pk) == "counselor"
    assert used(client_user) == 0


def test_the_booking_page_says_who_pays(client, client_user, counselor, allowance):
    client.force_login(client_user)
    start = start_of(counselor)
    response = client.post(
        f"/counselors/{counselor.pk}/book/",
        {
            "start": start.isoformat(),
            "duration_minutes": 30,
            "mode": "text",
            "topic": "exam stress",
            "note": "",
        },
        follow=True,
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "Paid by Acme EAP" in response.content.decode()


def test_booking_list_shows_the_self_pay_reason(client, client_user, counselor):
    allowance = AllowanceFactory(modes=["voice"])
    MembershipFactory(organisation=allowance.organisation, user=client_user)
    BookingFactory(
        counselor=counselor,
        client=client_user,
        start=start_of(counselor),
        allowance_refusal=Refusal.MODE,
    )
    client.force_login(client_user)
    page = client.get("/bookings/").content.decode()
    assert str(Refusal.MODE.label).replace("'", "&#x27;") in page


def test_a_talk_now_session_is_paid_by_the_allowance_too(counselor, allowance, client_user):
    from listening.services import booking_start_now

    booking = booking_start_now(
        client=client_user,
        counselor_id=counselor.pk,
        duration_minutes=15,
        mode="text",
        topic="now",
    )
    assert booking.allowance_claim.organisation == allowance.organisation


def test_a_sponsored_session_moves_within_its_quarter(as_client, counselor, allowance):
    booking = _sponsored_booking(as_client, counselor)
    response = as_client.post(
        f"/api/v1/bookings/{booking.pk}/reschedule/",
        {"start": start_of(counselor, 60).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["funding"]["kind"] == "allowance"


def test_a_sponsored_session_cannot_move_to_another_quarter(
    as_client, client_user, counselor, allowance
):
    booking = _sponsored_booking(as_client, counselor)
    AllowanceClaim.objects.filter(pk=booking.allowance_claim_id).update(quarter=dt.date(2020, 1, 1))
    response = as_client.post(
        f"/api/v1/bookings/{booking.pk}/reschedule/",
        {"start": start_of(counselor, 60).isoformat()},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "allowance_quarter"
    assert Booking.objects.get(pk=booking.pk).start == booking.start
