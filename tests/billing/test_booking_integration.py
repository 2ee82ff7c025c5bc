"""Bookings post their money events: the charge with the booking, then the refund policy on
cancellation, the earning at the session's end, no-shows from the clock, a new price on a
reschedule."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from billing.models import Account, Charge
from listening.models import Booking
from listening.services import (
    booking_cancel,
    booking_create,
    booking_reschedule,
    session_end,
    session_no_show_check,
)
from tests.billing.factories import balance, charge_total, counselor_due

pytestmark = pytest.mark.django_db
K = Account.Kind


def _book(client_user, counselor, *, minutes=30, offset=0):
    window = counselor.windows.first()
    return booking_create(
        client=client_user,
        counselor_id=counselor.pk,
        start=window.start + dt.timedelta(minutes=offset),
        duration_minutes=minutes,
        mode="text",
        topic="stress",
    )


def _charge(booking) -> Charge:
    return Charge.objects.get(subject="booking", subject_id=booking.pk)


def test_a_booking_is_charged_at_its_price_in_its_own_transaction(client_user, counselor):
    booking = _book(client_user, counselor)
    charge = _charge(booking)
    assert (charge.amount, charge.client_id, charge.counselor_id) == (
        Decimal("100.00"),
        client_user.pk,
        counselor.pk,
    )
    assert charge.organisation_id is None  # no allowance: the client pays
    assert balance(K.ESCROW) == Decimal("-100.00")


def test_a_booking_that_fails_posts_nothing(client_user, counselor):
    _book(client_user, counselor)
    with pytest.raises(Exception):  # noqa: B017 - the slot is taken: whichever error, no money
        _book(client_user, counselor)
    assert Charge.objects.count() == 1


@override_settings(OFFERING_PRICE_MAX=Decimal(50))
def test_a_price_above_the_platform_bound_refuses_the_booking(client_user, counselor):
    with pytest.raises(ValidationError) as exc:
        _book(client_user, counselor)
    assert "price" in exc.value.message_dict
    assert not Booking.objects.exists() and not Charge.objects.exists()


def test_a_client_cancelling_early_is_refunded(client_user, counselor):
    booking = _book(client_user, counselor)  # tomorrow: more than two hours ahead
    booking_cancel(booking_id=booking.pk, user=client_user)
    charge = _charge(booking)
    assert charge.status == Charge.Status.REFUNDED and charge_total(charge, K.GATEWAY) == 0


def test_a_client_cancelling_late_pays_the_counselor(client_user, counselor):
    booking = _book(client_user, counselor)
    with mock.patch(
        "django.utils.timezone.now", return_value=booking.start - dt.timedelta(hours=1)
    ):
        booking_cancel(booking_id=booking.pk, user=client_user)
    assert _charge(booking).status == Charge.Status.EARNED
    assert counselor_due(counselor) == Decimal("80.00")


def test_a_counselor_cancelling_refunds_the_client(client_user, counselor):
    booking = _book(client_user, counselor)
    booking_cancel(booking_id=booking.pk, user=counselor.user, reason="ill")
    assert _charge(booking).status == Charge.Status.REFUNDED


def test_the_end_of_a_session_makes_the_earning_due(client_user, counselor):
    booking = _book(client_user, counselor)
    with mock.patch("django.utils.timezone.now", return_value=booking.end):
        assert session_end(booking_id=booking.pk)
    assert _charge(booking).status == Charge.Status.EARNED
    assert counselor_due(counselor) == Decimal("80.00")


@pytest.mark.parametrize(
    ("joined", "status"), [("counselor_joined_at", "earned"), ("client_joined_at", "refunded")]
)
def test_the_no_show_check_settles_by_who_stayed_away(joined, status, client_user, counselor):
    booking = _book(client_user, counselor)
    Booking.objects.filter(pk=booking.pk).update(**{joined: booking.start})
    with mock.patch(
        "django.utils.timezone.now", return_value=booking.start + dt.timedelta(minutes=11)
    ):
        assert session_no_show_check(booking_id=booking.pk)
    assert _charge(booking).status == status


def test_a_reschedule_to_a_shorter_session_gives_the_difference_back(client_user, counselor):
    booking = _book(client_user, counselor, minutes=30)
    booking_reschedule(
        booking_id=booking.pk,
        user=client_user,
        start=booking.start + dt.timedelta(hours=1),
        duration_minutes=15,
    )
    charge = _charge(booking)
    assert charge.amount == Decimal("60.00") and charge_total(charge, K.GATEWAY) == Decimal("60.00")


def test_the_counselor_dashboard_shows_the_ledgers_earnings(client, client_user, counselor):
    booking = _book(client_user, counselor)
    with mock.patch("django.utils.timezone.now", return_value=booking.end):
        session_end(booking_id=booking.pk)
    client.force_login(counselor.user)
    with mock.patch("django.utils.timezone.now", return_value=booking.end):
        earnings = dict(client.get("/counselor/").context["earnings"])
    assert earnings["This month"]["total"] == Decimal("80.00")  # after the 20% fee
