import datetime as dt

import pytest
from django.utils import timezone

from core.exceptions import Conflict
from listening.models import Booking
from listening.services import booking_complete, booking_mark_no_show
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def past_booking(minutes_ago: int, **kwargs) -> Booking:
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes_ago)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def test_booking_completes_after_its_end():
    booking = booking_complete(booking_id=past_booking(40).pk)
    assert booking.status == Booking.Status.COMPLETED
    assert booking.completed_at is not None


def test_booking_cannot_complete_before_its_end():
    booking = past_booking(10)
    with pytest.raises(Conflict):
        booking_complete(booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancelled_booking_cannot_complete():
    booking = past_booking(40, status=Booking.Status.CANCELLED)
    with pytest.raises(Conflict):
        booking_complete(booking_id=booking.pk)


def test_no_show_recorded_ten_minutes_after_start():
    booking = booking_mark_no_show(booking_id=past_booking(11).pk, party="client")
    assert booking.status == Booking.Status.NO_SHOW
    assert booking.no_show_party == "client"


def test_no_show_refused_within_the_first_ten_minutes():
    booking = past_booking(5)
    with pytest.raises(Conflict):
        booking_mark_no_show(booking_id=booking.pk, party="counselor")


def test_completed_booking_cannot_become_no_show():
    booking = past_booking(40, status=Booking.Status.COMPLETED)
    with pytest.raises(Conflict):
        booking_mark_no_show(booking_id=booking.pk, party="client")


def test_no_show_still_holds_the_counselors_time():
    booking = past_booking(11)
    booking_mark_no_show(booking_id=booking.pk, party="client")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(counselor=booking.counselor, start=booking.start, end=booking.end)
