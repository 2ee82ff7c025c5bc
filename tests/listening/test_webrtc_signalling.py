"""WebRTC signalling through the session room, end to end: two real aiortc peers (client and
counselor), each behind its own `websockets` connection to a live daphne process, negotiate
a data channel using only what the room relays (`webrtc.offer`, `webrtc.answer`,
`webrtc.ice`).

The SDP sent through the room has its `a=candidate` / `a=end-of-candidates` lines removed, so
the peers only learn each other's addresses from the relayed `webrtc.ice` frames: if the ICE
relay were broken, the data channel could not open. No STUN servers are used and host
candidates are pinned to 127.0.0.1, so everything stays on loopback (no internet needed)."""

import asyncio
import datetime as dt
import json

import aioice.ice
import pytest
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from django.utils import timezone
from rest_framework.authtoken.models import Token

from listening.models import SessionMessage
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db(transaction=True)

STEP = 5.0  # seconds allowed for any single wait


def live_booking(**kwargs):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def ws_url(base: str, booking_id: int) -> str:
    return base.replace("http://", "ws://") + f"/ws/sessions/{booking_id}/"


def headers(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


@pytest.fixture
def loopback_ice(monkeypatch):
    """aioice leaves 127.0.0.1 out of its host candidates and a sandbox/CI box may have no
    other usable interface: offer exactly one host candidate, on loopback."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class Side:
    """One participant's socket; every frame it receives is kept in `frames`."""

    def __init__(self, role: str, ws):
        self.role, self.ws, self.frames = role, ws, []

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def next_of(self, kind: str, timeout: float = STEP) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            self.frames.append(frame)
            if frame["type"] == kind:
                return frame

    def received(self, kind: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == kind]


def split_candidates(sdp: str) -> tuple[str, list[dict]]:
    """The SDP without its candidate lines, and those candidates as browser-style
    RTCIceCandidateInit dicts ({"candidate": "candidate:...", "sdpMid", "sdpMLineIndex"})."""
    kept, candidates = [], []
    mline, mid = -1, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline, mid = mline + 1, None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        if line.startswith("a=candidate:"):
            candidates.append(
                {"candidate": line[len("a=") :], "sdpMid": mid, "sdpMLineIndex": mline}
            )
            continue
        if line == "a=end-of-candidates":
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates


async def send_description(side: Side, pc: RTCPeerConnection) -> list[dict]:
    """Send our local description without candidates, then each candidate as `webrtc.ice`,
    then end-of-candidates (an empty candidate, as browsers send it). Returns the candidates."""
    desc = pc.localDescription
    sdp, candidates = split_candidates(desc.sdp)
    assert candidates, f"aiortc gathered no host candidate:\n{desc.sdp}"
    await side.send({"type": f"webrtc.{desc.type}", "payload": {"sdp": sdp, "type": desc.type}})
    for init in candidates:
        await side.send({"type": "webrtc.ice", "payload": init})
    await side.send(
        {
            "type": "webrtc.ice",
            "payload": {
                "candidate": "",
                "sdpMid": candidates[0]["sdpMid"],
                "sdpMLineIndex": candidates[0]["sdpMLineIndex"],
            },
        }
    )
    return candidates


async def add_relayed_candidates(side: Side, pc: RTCPeerConnection, sender_role: str) -> list[dict]:
    """Read `webrtc.ice` frames until end-of-candidates and hand them to aiortc."""
    received = []
    while True:
        frame = await side.next_of("webrtc.ice")
        assert frame["from"] == sender_role
        init = frame["payload"]
        if not init.get("candidate"):
            await pc.addIceCandidate(None)
            return received
        received.append(init)
        candidate = candidate_from_sdp(init["candidate"].split(":", 1)[1])
        candidate.sdpMid, candidate.sdpMLineIndex = init["sdpMid"], init["sdpMLineIndex"]
        await pc.addIceCandidate(candidate)  # a duplicate transport address is ignored by aioice


def test_webrtc_negotiation_through_the_room_opens_a_data_channel(daphne_server, loopback_ice):
    booking = live_booking(mode="video")
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        config = RTCConfiguration(iceServers=[])
        client_pc, counselor_pc = RTCPeerConnection(config), RTCPeerConnection(config)
        loop = asyncio.get_running_loop()
        client_opened, counselor_channel = asyncio.Event(), loop.create_future()
        at_counselor, at_client = loop.create_future(), loop.create_future()
        try:
            async with (
                websockets.connect(
                    ws_url(daphne_server, booking.pk),
                    additional_headers=client_h,
                    origin="http://localhost",
                ) as client_ws,
                websockets.connect(
                    ws_url(daphne_server, booking.pk),
                    additional_headers=counselor_h,
                    origin="http://localhost",
                ) as counselor_ws,
            ):
                client, counselor = Side("client", client_ws), Side("counselor", counselor_ws)
                for side in (client, counselor):
                    cfg = await side.next_of("session.config")
                    assert cfg["role"] == side.role and isinstance(cfg["ice_servers"], list)

                # --- client: data channel + offer -------------------------------------------
                channel = client_pc.createDataChannel("pianke")
                channel.on("open", client_opened.set)
                channel.on("message", lambda m: at_client.done() or at_client.set_result(m))

                @counselor_pc.on("datachannel")
                def on_datachannel(ch):
                    @ch.on("message")
                    def on_message(message):
                        if not at_counselor.done():
                            at_counselor.set_result(message)
                        ch.send(f"heard: {message}")

                    if not counselor_channel.done():
                        counselor_channel.set_result(ch)

                await client_pc.setLocalDescription(await client_pc.createOffer())
                client_sent = await send_description(client, client_pc)

                # --- counselor: offer in, answer out ----------------------------------------
                offer = await counselor.next_of("webrtc.offer")
                assert offer["from"] == "client" and offer["payload"]["type"] == "offer"
                assert (
                    "a=candidate" not in offer["payload"]["sdp"]
                )  # addresses come only via webrtc.ice
                await counselor_pc.setRemoteDescription(RTCSessionDescription(**offer["payload"]))
                await counselor_pc.setLocalDescription(await counselor_pc.createAnswer())
                counselor_sent = await send_description(counselor, counselor_pc)
                counselor_got = await add_relayed_candidates(counselor, counselor_pc, "client")

                # --- client: answer and the counselor's candidates in -----------------------
                answer = await client.next_of("webrtc.answer")
                assert answer["from"] == "counselor" and answer["payload"]["type"] == "answer"
                await client_pc.setRemoteDescription(RTCSessionDescription(**answer["payload"]))
                client_got = await add_relayed_candidates(client, client_pc, "counselor")

                assert counselor_got == client_sent and client_got == counselor_sent

                # --- the data channel opens and carries a message each way -----------------
                await asyncio.wait_for(client_opened.wait(), STEP)
                assert (await asyncio.wait_for(counselor_channel, STEP)).label == "pianke"
                channel.send("hello, is anyone there?")
                assert await asyncio.wait_for(at_counselor, STEP) == "hello, is anyone there?"
                assert await asyncio.wait_for(at_client, STEP) == "heard: hello, is anyone there?"
                assert client_pc.connectionState == counselor_pc.connectionState == "connected"

                # Barrier: a frame relayed through the channel layer after everything above;
                # anything the room might have echoed back to a sender arrives before it.
                await counselor.send({"type": "typing"})
                while (await client.next_of("presence"))["state"] != "typing":
                    pass
                await client.send({"type": "typing"})
                while (await counselor.next_of("presence"))["state"] != "typing":
                    pass

                # Nobody hears their own signalling back; each side got exactly the other's.
                assert client.received("webrtc.offer") == []
                assert counselor.received("webrtc.answer") == []
                assert all(f["from"] == "counselor" for f in client.received("webrtc.ice"))
                assert all(f["from"] == "client" for f in counselor.received("webrtc.ice"))
                assert (
                    len(counselor.received("webrtc.offer"))
                    == len(client.received("webrtc.answer"))
                    == 1
                )
                assert (
                    len(counselor.received("webrtc.ice")) == len(client_sent) + 1
                )  # + end-of-candidates
                assert len(client.received("webrtc.ice")) == len(counselor_sent) + 1
                assert not [
                    f for side in (client, counselor) for f in side.frames if f["type"] == "error"
                ]
        finally:
            await client_pc.close()
            await counselor_pc.close()
        assert client_pc.connectionState == counselor_pc.connectionState == "closed"

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert not SessionMessage.objects.filter(booking=booking).exists()  # signalling is never stored


@pytest.mark.parametrize(
    "frame",
    [{"type": "webrtc.ice"}, {"type": "webrtc.ice", "payload": None}],
    ids=["missing", "null"],
)
def test_ice_frame_without_payload_is_refused_and_not_relayed(daphne_server, frame):
    booking = live_booking(mode="video")
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        async with (
            websockets.connect(
                ws_url(daphne_server, booking.pk),
                additional_headers=client_h,
                origin="http://localhost",
            ) as client_ws,
            websockets.connect(
                ws_url(daphne_server, booking.pk),
                additional_headers=counselor_h,
                origin="http://localhost",
            ) as counselor_ws,
        ):
            client, counselor = Side("client", client_ws), Side("counselor", counselor_ws)
            await client.next_of("session.config")
            await counselor.next_of("session.config")

            await client.send(frame)
            error = await client.next_of("error")
            assert error["code"] == "invalid_payload"

            # Barrier: the room handles a socket's frames in order, so a relayed ICE frame
            # would reach the counselor before this typing notice.
            await client.send({"type": "typing"})
            while (await counselor.next_of("presence"))["state"] != "typing":
                pass
            assert counselor.received("webrtc.ice") == []
            assert counselor.received("error") == []

    asyncio.run(asyncio.wait_for(scenario(), 15))
    assert not SessionMessage.objects.filter(booking=booking).exists()
