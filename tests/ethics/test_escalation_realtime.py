"""Crisis alerts end to end over in-process sockets on the real Redis channel layer: a high-risk
chat line reaches the client (hotlines), the counselor (in the room) and the supervisor on
shift (/ws/staff/); then through a REAL Celery worker on Redis: delivery, the sweeper
re-driving an alert whose task was lost, and no duplicates when tasks are redelivered."""

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from ethics import services, tasks
from ethics.models import CrisisAlert
from listening.services import message_post
from tests.conftest import wait_for
from tests.ethics.test_escalation_support import (
    HIGH_EN,
    HIGH_ZH,
    SupervisorFactory,
    bare_alert,
    db,
    frames_until,
    live_booking,
    on_shift,
    seed_directory,
    ws,  # the fixture
)
from tests.factories import ClientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _scene(**booking_kwargs):
    seed_directory()
    supervisor = SupervisorFactory()
    on_shift(supervisor)
    return live_booking(**booking_kwargs), supervisor


def _notified(alert_id):
    return CrisisAlert.objects.filter(pk=alert_id, notified_at__isnull=False).exists()


async def test_chat_signal_reaches_client_counselor_and_supervisor_at_once(ws):
    booking, supervisor = await db(_scene)()  # Asia/Shanghai client
    staff = await ws.staff(supervisor)
    assert staff.queue == []
    client = await ws.room(booking.client, booking.pk)
    counselor = await ws.room(booking.counselor.user, booking.pk)
    await client.receive_json_from(timeout=5)  # the counselor's presence

    await client.send_json_to({"type": "chat.message", "id": str(uuid.uuid4()), "text": HIGH_ZH})

    to_client = await frames_until(client, "crisis.resources", "chat.message")
    assert to_client["crisis.resources"]["hotlines"][0]["contact"] == "12356"
    to_counselor = await frames_until(counselor, "crisis.alert", "chat.message")
    alert = await db(CrisisAlert.objects.get)(booking=booking)
    assert to_counselor["crisis.alert"] == {"type": "crisis.alert", "alert": alert.pk}
    to_staff = await staff.receive_json_from(timeout=5)
    assert to_staff["type"] == "crisis.alert"
    assert to_staff["alert"]["id"] == alert.pk and to_staff["alert"]["source"] == "chat"
    assert to_staff["alert"]["booking"] == booking.pk and to_staff["alert"]["severity"] == "high"
    assert await client.receive_nothing(timeout=0.3)  # the alert itself is not for the client
    assert "crisis.alert" not in [f["type"] for f in to_client["_all"]]
    assert [m.to for m in mail.outbox] == [[supervisor.email]]


async def test_london_client_gets_samaritans_on_the_socket(ws):
    booking, _ = await db(_scene)(
        client=await db(ClientFactory)(timezone="Europe/London", language="en")
    )
    client = await ws.room(booking.client, booking.pk)
    await db(message_post)(
        booking_id=booking.pk, sender=booking.client, uid=uuid.uuid4(), text=HIGH_EN, live=False
    )
    frame = (await frames_until(client, "crisis.resources"))["crisis.resources"]
    assert (
        frame["hotlines"][0]["name"] == "Samaritans"
        and frame["hotlines"][0]["contact"] == "116 123"
    )


# --- With a real Celery worker on Redis ---------------------------------------------------------------


async def test_worker_delivers_an_async_message_alert_to_the_staff_socket(
    celery_worker_on_redis, ws
):
    booking, supervisor = await db(_scene)()
    staff = await ws.staff(supervisor)
    message, _ = await db(message_post)(
        booking_id=booking.pk, sender=booking.client, uid=uuid.uuid4(), text=HIGH_EN, live=False
    )
    frame = await staff.receive_json_from(timeout=15)  # alert_notify, run by the worker
    assert frame["type"] == "crisis.alert"
    assert frame["alert"]["id"] == message.crisis_alert.pk and frame["alert"]["source"] == "message"
    await db(wait_for)(lambda: _notified(message.crisis_alert.pk))
    assert [m.to for m in mail.outbox] == [[supervisor.email]]
    assert await staff.receive_nothing(timeout=0.5)  # the ladder's steps are not due for minutes


class _LostTask:
    """The broker refuses the task (or the worker that took it died before it committed)."""

    @staticmethod
    def delay(*args, **kwargs):
        raise ConnectionError("lost")

    apply_async = delay


async def test_sweeper_task_redelivers_an_alert_whose_task_was_lost(
    celery_worker_on_redis, ws, monkeypatch
):
    booking, supervisor = await db(_scene)()
    staff = await ws.staff(supervisor)
    monkeypatch.setattr(tasks, "alert_notify", _LostTask)
    monkeypatch.setattr(tasks, "alert_escalate", _LostTask)
    message, _ = await db(message_post)(
        booking_id=booking.pk, sender=booking.client, uid=uuid.uuid4(), text=HIGH_EN, live=False
    )
    alert_id = message.crisis_alert.pk
    assert await staff.receive_nothing(timeout=0.5)
    assert not await db(_notified)(alert_id) and mail.outbox == []
    monkeypatch.undo()

    tasks.alerts_sweep.delay()  # the beat's sweep, run by the worker
    frame = await staff.receive_json_from(timeout=15)
    assert frame["type"] == "crisis.alert" and frame["alert"]["id"] == alert_id
    await db(wait_for)(lambda: _notified(alert_id))
    tasks.alerts_sweep.delay()  # the next sweep finds nothing to do
    tasks.alert_notify.delay(alert_id)  # and a late redelivery of the lost task neither
    assert await staff.receive_nothing(timeout=1.5)
    assert [m.to for m in mail.outbox] == [[supervisor.email]]


async def test_worker_redelivered_escalation_is_one_email_and_frame(celery_worker_on_redis, ws):
    """An alert from three minutes ago that the worker 'lost' mid-ladder: the sweeper and two
    copies of the escalation task together do level 1 once."""
    booking, supervisor = await db(_scene)()
    staff = await ws.staff(supervisor)
    alert = await db(bare_alert)(
        booking, minutes_ago=3, notified_at=timezone.now() - dt.timedelta(minutes=3)
    )
    tasks.alert_escalate.delay(alert.pk, 1)
    tasks.alert_escalate.delay(alert.pk, 1)
    tasks.alerts_sweep.delay()
    frame = await staff.receive_json_from(timeout=15)
    assert frame["type"] == "crisis.alert"
    assert frame["alert"]["id"] == alert.pk and frame["alert"]["escalation_level"] == 1
    await db(wait_for)(lambda: len(mail.outbox) >= 1)
    assert await staff.receive_nothing(timeout=1.5)
    assert len(mail.outbox) == 1
    state = await db(CrisisAlert.objects.get)(pk=alert.pk)
    assert (state.escalation_level, state.overdue) == (1, False)


async def test_services_escalation_reaches_every_connected_staff_socket(ws):
    booking, supervisor = await db(_scene)()
    from tests.factories import StaffFactory

    other = await db(StaffFactory)()
    alert = await db(bare_alert)(
        booking, minutes_ago=5.5, notified_at=timezone.now(), escalation_level=1
    )
    sockets = [await ws.staff(supervisor), await ws.staff(other)]
    assert [a["id"] for a in sockets[0].queue] == [alert.pk]
    assert await db(services.alert_escalate)(alert_id=alert.pk, level=2) is True
    for sock in sockets:
        frame = await sock.receive_json_from(timeout=5)
        assert frame["alert"]["id"] == alert.pk
        assert frame["alert"]["escalation_level"] == 2 and frame["alert"]["overdue"] is True
