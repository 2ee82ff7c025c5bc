"""Cancellation notices go through Celery: tested with a real worker on Redis."""

import pytest
from django.core import mail

from listening.models import Booking
from listening.tasks import booking_cancelled_notify
from tests.conftest import api_as, wait_for
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory


def test_counselor_cancelling_emails_the_client_through_the_worker(celery_worker_on_redis):
    client = ClientFactory(email="client@example.org")
    booking = BookingFactory(client=client, counselor=CounselorProfileFactory())
    response = api_as(booking.counselor.user).post(
        f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "I am ill"}, format="json"
    )
    assert response.status_code == 200
    wait_for(
        lambda: Booking.objects.filter(pk=booking.pk, cancel_notified_at__isnull=False).exists()
    )
    [message] = mail.outbox
    assert message.to == ["client@example.org"]
    assert "I am ill" in message.body


@pytest.mark.django_db
def test_cancellation_notice_is_sent_once_even_if_the_task_runs_twice():
    client = ClientFactory(email="client@example.org")
    booking = BookingFactory(client=client, status=Booking.Status.CANCELLED)
    booking.cancelled_by = booking.counselor.user
    booking.save()
    booking_cancelled_notify(booking.pk)
    booking_cancelled_notify(booking.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_client_cancelling_tells_the_counselor(django_capture_on_commit_callbacks):
    booking = BookingFactory(counselor=CounselorProfileFactory(user__email="c@example.org"))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(booking.client).post(
            f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "exam"}, format="json"
        )
    assert [m.to for m in mail.outbox] == [["c@example.org"]]
