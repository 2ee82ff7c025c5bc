"""Conversation-level risk through the real room socket (in-process consumers on the real
Redis channel layer) and a REAL Celery worker: the message that completes a spread pattern
raises the alert, the client gets the resources, the counselor the alert, the supervisor on
shift the push; a check asks the counselor for a risk check; someone else's risk shows the
client how to help, with no alert."""

import uuid

import pytest

from ethics.models import CrisisAlert
from tests.ethics.test_escalation_support import (
    SupervisorFactory,
    db,
    frames_until,
    live_booking,
    on_shift,
    seed_directory,
    ws,  # the fixture
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

__all__ = ["ws"]


def _scene():
    seed_directory()
    supervisor = SupervisorFactory()
    on_shift(supervisor)
    return live_booking(), supervisor


async def say(comm, text):
    await comm.send_json_to({"type": "chat.message", "id": str(uuid.uuid4()), "text": text})


async def test_the_completing_message_raises_the_alert_for_everyone(celery_worker_on_redis, ws):
    booking, supervisor = await db(_scene)()
    staff = await ws.staff(supervisor)
    client = await ws.room(booking.client, booking.pk)
    counselor = await ws.room(booking.counselor.user, booking.pk)
    await client.receive_json_from(timeout=5)  # the counselor's presence

    await say(client, "honestly nobody would miss me")
    await frames_until(client, "chat.message")
    assert not await db(CrisisAlert.objects.exists)()
    assert await staff.receive_nothing(timeout=0.5)

    await say(client, "I stopped at the pharmacy and bought a lot of pills")
    to_client = await frames_until(client, "crisis.resources", "chat.message")
    assert to_client["crisis.resources"]["hotlines"][0]["contact"] == "12356"
    alert = await db(CrisisAlert.objects.get)(booking=booking)
    to_counselor = await frames_until(counselor, "crisis.alert")
    assert to_counselor["crisis.alert"]["alert"] == alert.pk
    to_staff = await staff.receive_json_from(timeout=15)  # alert_notify, run by the worker
    assert to_staff["type"] == "crisis.alert" and to_staff["alert"]["id"] == alert.pk
    assert any("conversation means+hopelessness" in r for r in to_staff["alert"]["reasons"])


async def test_a_check_asks_the_counselor_for_a_risk_check(ws):
    booking, _ = await db(_scene)()
    client = await ws.room(booking.client, booking.pk)
    counselor = await ws.room(booking.counselor.user, booking.pk)
    await client.receive_json_from(timeout=5)
    await say(client, "honestly nobody would miss me")
    frame = (await frames_until(counselor, "risk.check"))["risk.check"]
    assert frame["booking"] == booking.pk and frame["categories"] == ["hopelessness"]
    seen = await frames_until(client, "chat.message")
    assert "risk.check" not in [f["type"] for f in seen["_all"]]
    assert await client.receive_nothing(timeout=0.3)


async def test_someone_elses_risk_shows_how_to_help_and_opens_no_alert(ws):
    booking, _ = await db(_scene)()
    client = await ws.room(booking.client, booking.pk)
    await say(client, "My friend told me she wants to die, how do I help her?")
    frame = (await frames_until(client, "crisis.resources"))["crisis.resources"]
    assert frame["concern"] == "third-party"
    assert len(frame["helping_someone"]["steps"]) == 5 and frame["hotlines"]
    assert not await db(CrisisAlert.objects.exists)()
