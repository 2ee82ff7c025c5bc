"""`/ws/counselor/`: offers pushed live, heartbeats, accept/decline over the socket (in-process
sockets on the real Redis channel layer; the scene is committed, `transaction=True`)."""

import pytest
from channels.db import database_sync_to_async

from matching import services
from matching.models import MatchRequest, Presence
from tests.ethics.test_escalation_support import close_code, db, frames_until, ws
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.matching.helpers import on_duty

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("reference_data"),
]


def _ask_and_round() -> MatchRequest:
    request = services.match_request_create(
        client=ClientFactory(), topic="anxiety", mode="text", language="zh", duration_minutes=15
    )
    services.matching_round()
    return request


async def desk(ws, user):
    comm = await ws.open("/ws/counselor/", user)
    first = await comm.receive_json_from(timeout=5)
    assert first["type"] == "desk", first
    return comm, first


async def test_anonymous_is_refused_with_4401(ws):
    comm = await ws.open("/ws/counselor/")
    assert await close_code(comm) == 4401


async def test_client_is_refused_with_4403(ws):
    comm = await ws.open("/ws/counselor/", await db(ClientFactory)())
    assert await close_code(comm) == 4403


async def test_offer_is_pushed_to_the_counselor_at_once(ws):
    counselor = await db(on_duty)()
    comm, first = await desk(ws, counselor.user)
    assert first["presence"]["online"] is True and first["offers"] == []
    request = await db(_ask_and_round)()
    frame = (await frames_until(comm, "offer.new"))["offer.new"]
    assert frame["offer"]["request"]["id"] == request.pk
    assert frame["offer"]["request"]["topic"] == "anxiety"
    assert "username" not in str(frame), (
        "the counselor does not see who the client is before accepting"
    )


async def test_pending_offers_are_on_the_desk_after_a_reconnect(ws):
    counselor = await db(on_duty)()
    request = await db(_ask_and_round)()
    _comm, first = await desk(ws, counselor.user)
    assert [o["request"]["id"] for o in first["offers"]] == [request.pk]


async def test_heartbeat_renews_presence(ws):
    counselor = await db(on_duty)(seen_seconds_ago=50)
    comm, _ = await desk(ws, counselor.user)
    before = (await db(Presence.objects.get)(pk=counselor.pk)).last_seen_at
    await comm.send_json_to({"type": "presence.heartbeat"})
    frame = (await frames_until(comm, "presence"))["presence"]
    assert frame["online"] is True
    assert (await db(Presence.objects.get)(pk=counselor.pk)).last_seen_at > before


async def test_heartbeat_when_off_duty_renews_nothing(ws):
    counselor = await db(CounselorProfileFactory)()
    comm, first = await desk(ws, counselor.user)
    assert first["presence"]["online"] is False
    await comm.send_json_to({"type": "presence.heartbeat"})
    assert (await frames_until(comm, "presence"))["presence"]["online"] is False


async def test_accept_over_the_socket_makes_the_booking(ws):
    counselor = await db(on_duty)()
    comm, _ = await desk(ws, counselor.user)
    request = await db(_ask_and_round)()
    offer = (await frames_until(comm, "offer.new"))["offer.new"]["offer"]
    await comm.send_json_to({"type": "offer.accept", "id": offer["id"]})
    accepted = (await frames_until(comm, "offer.accepted"))["offer.accepted"]
    await database_sync_to_async(request.refresh_from_db)()
    assert request.status == "matched" and accepted["booking"] == request.booking_id


async def test_accepting_someone_elses_offer_gets_an_error_frame(ws):
    await db(on_duty)()
    request = await db(_ask_and_round)()
    other = await db(CounselorProfileFactory)()
    comm, _ = await desk(ws, other.user)
    offer_id = await database_sync_to_async(lambda: request.offers.get().pk)()
    await comm.send_json_to({"type": "offer.accept", "id": offer_id})
    frame = (await frames_until(comm, "error"))["error"]
    assert frame["code"] == "not_found"


async def test_unknown_frame_gets_an_error(ws):
    counselor = await db(CounselorProfileFactory)()
    comm, _ = await desk(ws, counselor.user)
    await comm.send_json_to({"type": "nonsense"})
    assert (await frames_until(comm, "error"))["error"]["code"] == "unknown_type"
