"""`/ws/staff/`: the live crisis queue for on-call supervisors and staff (in-process sockets on
the real Redis channel layer; the scene is committed, `transaction=True`)."""

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from ethics.models import CrisisAlert
from tests.conftest import api_as
from tests.ethics.test_escalation_support import (
    SupervisorFactory,
    bare_alert,
    close_code,
    db,
    token_for,
    ws,  # the fixture
)
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_anonymous_is_refused_with_4401(ws):
    comm = await ws.open("/ws/staff/")
    assert await close_code(comm) == 4401


async def test_bad_token_is_refused_with_4401(ws):
    from config.asgi import application

    comm = WebsocketCommunicator(
        application, "/ws/staff/", headers=[(b"authorization", b"Token nope")]
    )
    connected, _ = await comm.connect(timeout=5)
    ws.opened.append(comm)
    assert connected  # accepted so that the refusal carries its close code
    assert await close_code(comm) == 4401


async def test_deactivated_staff_member_is_refused_with_4401(ws):
    staff = await db(StaffFactory)()
    token = await db(token_for)(staff)
    staff.is_active = False
    await db(staff.save)()
    from config.asgi import application

    comm = WebsocketCommunicator(
        application, "/ws/staff/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    connected, _ = await comm.connect(timeout=5)
    ws.opened.append(comm)
    assert connected and await close_code(comm) == 4401


@pytest.mark.parametrize("role", ["client", "counselor"])
async def test_clients_and_counselors_are_refused_with_4403(role, ws):
    user = (
        await db(ClientFactory)()
        if role == "client"
        else (await db(CounselorProfileFactory)()).user
    )
    comm = await ws.open("/ws/staff/", user)
    assert await close_code(comm) == 4403


def _queue_scene():
    now = timezone.now()
    low = bare_alert(BookingFactory(), severity=CrisisAlert.Severity.LOW, minutes_ago=30)
    new = bare_alert(BookingFactory(), minutes_ago=1)
    acknowledged = bare_alert(
        BookingFactory(), minutes_ago=12, status="acknowledged", acknowledged_at=now
    )
    bare_alert(
        BookingFactory(),
        minutes_ago=60,
        status="resolved",
        acknowledged_at=now,
        resolved_at=now,
        outcome="contacted",
        outcome_note="ok",
    )
    return [acknowledged.pk, new.pk, low.pk]


@pytest.mark.parametrize("role", ["supervisor", "staff"])
async def test_on_connect_the_queue_of_unresolved_alerts(role, ws):
    expected = await db(_queue_scene)()
    user = await db(SupervisorFactory if role == "supervisor" else StaffFactory)()
    comm = await ws.staff(user)
    assert [a["id"] for a in comm.queue] == expected  # severity, then age; resolved ones left out
    assert [a["status"] for a in comm.queue] == ["acknowledged", "open", "open"]
    assert {
        "id",
        "severity",
        "status",
        "source",
        "booking",
        "client",
        "reasons",
        "signal_count",
        "created_at",
        "escalation_level",
        "overdue",
        "nobody_on_shift",
    } <= set(comm.queue[0])
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=5) == {"type": "pong"}


async def test_acknowledging_through_the_api_updates_every_staff_socket(ws):
    supervisor = await db(SupervisorFactory)()
    staff = await db(StaffFactory)()
    alert = await db(bare_alert)(await db(BookingFactory)(), notified_at=timezone.now())
    sockets = [await ws.staff(supervisor), await ws.staff(staff)]
    response = await db(
        lambda: api_as(supervisor).post(
            f"/api/v1/crisis/alerts/{alert.pk}/acknowledge/", {}, format="json"
        )
    )()
    assert response.status_code == 200
    for comm in sockets:
        frame = await comm.receive_json_from(timeout=5)
        assert frame["type"] == "crisis.alert"
        assert (frame["alert"]["id"], frame["alert"]["status"]) == (alert.pk, "acknowledged")
    response = await db(
        lambda: api_as(staff).post(
            f"/api/v1/crisis/alerts/{alert.pk}/resolve/",
            {"outcome": "referred", "note": "to the clinic"},
            format="json",
        )
    )()
    assert response.status_code == 200
    for comm in sockets:
        frame = await comm.receive_json_from(timeout=5)
        assert (frame["alert"]["id"], frame["alert"]["status"]) == (alert.pk, "resolved")


async def test_a_rejected_acknowledgement_sends_nothing(ws):
    supervisor = await db(SupervisorFactory)()
    alert = await db(bare_alert)(
        await db(BookingFactory)(), status="acknowledged", acknowledged_at=timezone.now()
    )
    comm = await ws.staff(supervisor)
    response = await db(
        lambda: api_as(supervisor).post(
            f"/api/v1/crisis/alerts/{alert.pk}/acknowledge/", {}, format="json"
        )
    )()
    assert response.status_code == 409
    assert await comm.receive_nothing(timeout=0.3)
