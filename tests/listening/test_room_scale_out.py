"""Scale-out: two daphne processes sharing the Redis channel layer (and the database). The
client talks to one, the counselor to the other; everything the room relays must cross."""

import asyncio
import datetime as dt
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets
from django.utils import timezone
from rest_framework.authtoken.models import Token

from listening.models import Booking, SessionMessage
from tests.conftest import database_url_for_tests, start_server, stop_server
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://localhost"


@pytest.fixture(scope="module")
def two_daphnes(django_db_setup, django_db_blocker):
    """Two daphne processes on different ports, against the test database and Redis layer."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(start_server, "daphne", database_url) for _ in range(2)]
    started, errors = [], []
    for future in futures:
        try:
            started.append(future.result())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    if errors:
        for proc, _base in started:
            stop_server(proc)
        raise errors[0]
    (proc_a, base_a), (proc_b, base_b) = started
    assert base_a != base_b
    yield base_a, base_b
    stop_server(proc_a)
    stop_server(proc_b)


def live_booking(**kwargs) -> Booking:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def token_header(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def open_ws(base: str, booking_id: int, hdrs: dict):
    url = base.replace("http://", "ws://") + f"/ws/sessions/{booking_id}/"
    return websockets.connect(
        url, additional_headers=hdrs, origin=ORIGIN, open_timeout=5, close_timeout=2
    )


async def recv(ws, timeout: float = 5.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def next_of(ws, kind: str, timeout: float = 5.0) -> dict:
    while True:
        frame = await recv(ws, timeout)
        if frame["type"] == kind:
            return frame


async def silent(ws, seconds: float = 0.4) -> bool:
    try:
        frame = await recv(ws, seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {frame}")


def chat(text: str, uid: str | None = None) -> str:
    return json.dumps({"type": "chat.message", "id": uid or str(uuid.uuid4()), "text": text})


async def in_room(base_client, base_counselor, booking, client_h, counselor_h, scenario):
    """Client on one server, counselor on the other, both past session.config and the
    client past the counselor's `joined`; then run `scenario(client, counselor)`."""
    async with open_ws(base_client, booking.pk, client_h) as client:
        await next_of(client, "session.config")
        async with open_ws(base_counselor, booking.pk, counselor_h) as counselor:
            await next_of(counselor, "session.config")
            joined = await next_of(client, "presence")
            assert joined["state"] == "joined" and joined["role"] == "counselor"
            await scenario(client, counselor)


def test_chat_crosses_between_two_servers(two_daphnes):
    server_a, server_b = two_daphnes
    booking = live_booking()
    client_h, counselor_h = token_header(booking.client), token_header(booking.counselor.user)

    async def scenario(client, counselor):
        await client.send(chat("hello from server A"))
        got = await next_of(counselor, "chat.message")
        assert (
            got["text"] == "hello from server A"
            and got["seq"] == 1
            and got["sender"] == booking.client_id
        )
        assert (await next_of(client, "chat.message"))["seq"] == 1
        await counselor.send(chat("hello from server B"))
        got = await next_of(client, "chat.message")
        assert (
            got["text"] == "hello from server B"
            and got["seq"] == 2
            and got["sender"] == booking.counselor_id
        )

    asyncio.run(in_room(server_a, server_b, booking, client_h, counselor_h, scenario))
    assert list(SessionMessage.objects.filter(booking=booking).values_list("seq", flat=True)) == [
        1,
        2,
    ]


def test_webrtc_signalling_crosses_between_two_servers(two_daphnes):
    server_a, server_b = two_daphnes
    booking = live_booking(mode="video")
    client_h, counselor_h = token_header(booking.client), token_header(booking.counselor.user)
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}
    answer = {"type": "answer", "sdp": "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n"}
    ice_a = {
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    ice_b = {
        "candidate": "candidate:2 1 udp 2122260223 192.0.2.2 50001 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }

    async def scenario(client, counselor):
        await client.send(json.dumps({"type": "webrtc.offer", "payload": offer}))
        assert await recv(counselor) == {"type": "webrtc.offer", "payload": offer, "from": "client"}
        await counselor.send(json.dumps({"type": "webrtc.answer", "payload": answer}))
        assert await recv(client) == {
            "type": "webrtc.answer",
            "payload": answer,
            "from": "counselor",
        }
        await client.send(json.dumps({"type": "webrtc.ice", "payload": ice_a}))
        await counselor.send(json.dumps({"type": "webrtc.ice", "payload": ice_b}))
        assert await recv(counselor) == {"type": "webrtc.ice", "payload": ice_a, "from": "client"}
        assert await recv(client) == {"type": "webrtc.ice", "payload": ice_b, "from": "counselor"}
        assert await silent(client) and await silent(counselor, 0.1)  # nobody hears their own

    asyncio.run(in_room(server_a, server_b, booking, client_h, counselor_h, scenario))
    assert not SessionMessage.objects.filter(booking=booking).exists()


def test_presence_crosses_between_two_servers(two_daphnes):
    server_a, server_b = two_daphnes
    booking = live_booking()
    client_h, counselor_h = token_header(booking.client), token_header(booking.counselor.user)

    async def scenario():
        async with open_ws(server_b, booking.pk, counselor_h) as counselor:
            await next_of(counselor, "session.config")
            async with open_ws(server_a, booking.pk, client_h) as client:
                await next_of(client, "session.config")
                assert (await recv(counselor))["state"] == "joined"
                await client.send(json.dumps({"type": "typing"}))
                assert await recv(counselor) == {
                    "type": "presence",
                    "user": booking.client_id,
                    "role": "client",
                    "state": "typing",
                }
            assert await recv(counselor) == {
                "type": "presence",
                "user": booking.client_id,
                "role": "client",
                "state": "left",
            }

    asyncio.run(scenario())


def test_resend_through_the_other_server_is_not_stored_twice(two_daphnes):
    server_a, server_b = two_daphnes
    booking = live_booking()
    client_h, counselor_h = token_header(booking.client), token_header(booking.counselor.user)
    uid = str(uuid.uuid4())

    async def scenario(client, counselor):
        await client.send(chat("sent once", uid))
        first = await next_of(client, "chat.message")
        await next_of(counselor, "chat.message")
        # The client's connection moves to the other server (a new load-balanced socket) and
        # resends the message whose acknowledgement it never saw.
        async with open_ws(server_b, booking.pk, client_h) as moved:
            await next_of(moved, "session.config")
            await moved.send(chat("sent once", uid))
            assert await next_of(moved, "chat.message") == first
        assert await next_of(counselor, "presence")  # the second socket's joined/left only
        assert all(f["type"] == "presence" for f in await drain(counselor))

    asyncio.run(in_room(server_a, server_b, booking, client_h, counselor_h, scenario))
    assert SessionMessage.objects.filter(booking=booking).count() == 1


async def drain(ws, seconds: float = 0.4) -> list:
    frames = []
    while True:
        try:
            frames.append(await recv(ws, seconds))
        except TimeoutError:
            return frames


def test_rate_limit_holds_across_servers(two_daphnes):
    """The chat rate counter lives in Redis: one person writing through two servers at once
    (two tabs) is still limited to ten messages a second, and nothing is lost."""
    server_a, server_b = two_daphnes
    booking = live_booking()
    client_h, counselor_h = token_header(booking.client), token_header(booking.counselor.user)

    async def scenario():
        async with (
            open_ws(server_a, booking.pk, client_h) as tab_a,
            open_ws(server_b, booking.pk, client_h) as tab_b,
            open_ws(server_b, booking.pk, counselor_h) as counselor,
        ):
            for ws in (tab_a, tab_b, counselor):
                await next_of(ws, "session.config")
            await asyncio.sleep(1 - time.time() % 1 + 0.01)
            for i in range(8):
                await tab_a.send(chat(f"a{i}"))
                await tab_b.send(chat(f"b{i}"))
            delivered = []
            while len(delivered) < 16:
                frame = await recv(counselor)
                if frame["type"] == "chat.message":
                    delivered.append(frame)
            # Two processes each push their own commits: every seq arrives, and each tab's
            # messages arrive in the order sent (frames from the two processes may interleave
            # out of seq order; clients order by seq).
            assert sorted(f["seq"] for f in delivered) == list(range(1, 17))
            assert [f["text"] for f in delivered if f["text"].startswith("a")] == [
                f"a{i}" for i in range(8)
            ]
            assert [f["text"] for f in delivered if f["text"].startswith("b")] == [
                f"b{i}" for i in range(8)
            ]
            errors = []
            for tab in (tab_a, tab_b):
                errors += [f for f in await drain(tab, 0.3) if f["type"] == "error"]
            assert errors and {e["code"] for e in errors} == {"rate_limited"}

    asyncio.run(scenario())
    assert SessionMessage.objects.filter(booking=booking).count() == 16
