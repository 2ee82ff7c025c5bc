"""An async thread's risk check has a deadline (settings.RISK_CHECK_SLA_SECONDS, 4 h): not
done in time, it goes to the on-call queue, once; done in time, it does not."""

import uuid

import pytest

from ethics import services
from ethics.models import CrisisAlert, RiskAssessment
from listening.services import message_post
from tests.conftest import api_as, wait_for
from tests.ethics.test_escalation_support import (
    SupervisorFactory,
    db,
    live_booking,
    on_shift,
    seed_directory,
    ws,  # the fixture
)
from tests.ethics.test_risk_check import NO

__all__ = ["ws"]

CHECK_TEXT = "honestly nobody would miss me"


def post(booking, text=CHECK_TEXT, *, live=False):
    return message_post(
        booking_id=booking.pk, sender=booking.client, uid=uuid.uuid4(), text=text, live=live
    )[0]


def thread(booking) -> RiskAssessment:
    return RiskAssessment.objects.get(subject=RiskAssessment.Subject.BOOKING, booking=booking)


@pytest.mark.django_db
def test_an_async_check_has_a_deadline():
    booking = live_booking()
    post(booking)
    assert thread(booking).check_due_at is not None


@pytest.mark.django_db
def test_a_live_check_has_no_deadline():
    booking = live_booking()
    post(booking, live=True)
    assert thread(booking).level == "check" and thread(booking).check_due_at is None


@pytest.mark.django_db
def test_not_due_yet_nothing_happens():
    booking = live_booking()
    post(booking)
    assert services.risk_check_overdue(assessment_id=thread(booking).pk) is False
    assert not CrisisAlert.objects.exists()


@pytest.mark.django_db
def test_past_the_deadline_it_goes_to_the_on_call_queue_once(settings):
    settings.RISK_CHECK_SLA_SECONDS = 0
    booking = live_booking()
    post(booking)
    assert services.alerts_sweep() >= 1
    alert = CrisisAlert.objects.get(booking=booking)
    assert alert.severity == CrisisAlert.Severity.LOW
    assert "risk check not done" in alert.reasons[0]
    assert services.risk_check_overdue(assessment_id=thread(booking).pk) is False
    assert CrisisAlert.objects.count() == 1


@pytest.mark.django_db
def test_a_check_done_in_time_stops_the_deadline(settings):
    settings.RISK_CHECK_SLA_SECONDS = 0
    booking = live_booking()
    post(booking)
    response = api_as(booking.counselor.user).post(
        f"/api/v1/bookings/{booking.pk}/risk-check/", NO, format="json"
    )
    assert response.status_code == 201
    assert services.risk_check_overdue(assessment_id=thread(booking).pk) is False
    assert not CrisisAlert.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_worker_escalates_an_overdue_check_to_the_supervisor(
    celery_worker_on_redis, ws, settings
):
    settings.RISK_CHECK_SLA_SECONDS = 1

    def scene():
        seed_directory()
        supervisor = SupervisorFactory()
        on_shift(supervisor)
        return live_booking(), supervisor

    booking, supervisor = await db(scene)()
    staff = await ws.staff(supervisor)
    await db(post)(booking)
    assert not await db(CrisisAlert.objects.exists)()
    frame = await staff.receive_json_from(timeout=20)  # the eta task, run by the worker
    assert frame["type"] == "crisis.alert" and frame["alert"]["booking"] == booking.pk
    assert frame["alert"]["severity"] == "low"
    await db(wait_for)(lambda: thread(booking).check_escalated_at is not None)
