"""The session room against a real daphne process, with the `websockets` client library.

Each test sets its scene in the (committed) test database, then runs one asyncio scenario
against the server; the server reaches the same database and the Redis channel layer."""

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid

import pytest
import redis
import websockets
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed

from listening.models import Booking, SessionMessage
from tests.factories import BookingFactory, ClientFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://localhost"


def live_booking(**kwargs) -> Booking:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def ws_url(base: str, booking_id: int, query: str = "") -> str:
    return base.replace("http://", "ws://") + f"/ws/sessions/{booking_id}/{query}"


def headers(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def open_ws(base: str, booking_id: int, hdrs: dict | None, query: str = ""):
    return websockets.connect(
        ws_url(base, booking_id, query),
        additional_headers=hdrs or {},
        origin=ORIGIN,
        open_timeout=5,
        close_timeout=2,
    )


async def next_of(ws, kind: str, timeout: float = 5.0) -> dict:
    """The next frame of type `kind` (skipping others, e.g. presence)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == kind:
            return frame


async def frames_of(ws, kind: str, count: int, timeout: float = 5.0) -> tuple[list, list]:
    """`count` frames of type `kind`, and every other frame seen meanwhile."""
    wanted, others = [], []
    while len(wanted) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        (wanted if frame["type"] == kind else others).append(frame)
    return wanted, others


async def silent(ws, seconds: float = 0.5) -> bool:
    try:
        frame = await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {frame}")


async def refused_with(base: str, booking_id: int, hdrs: dict | None) -> int:
    """Open the room and return the close code the server ends it with."""
    async with open_ws(base, booking_id, hdrs) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    return info.value.rcvd.code


@contextlib.asynccontextmanager
async def pair(base: str, booking: Booking, client_h: dict, counselor_h: dict):
    """The client in the room (past session.config), then the counselor; the client has
    heard the counselor join. (The handshake completes before the consumer has joined the
    room's group, so opening both at once would race for the `joined` notices.)"""
    async with open_ws(base, booking.pk, client_h) as client:
        await next_of(client, "session.config")
        async with open_ws(base, booking.pk, counselor_h) as counselor:
            await next_of(counselor, "session.config")
            joined = await next_of(client, "presence")
            assert joined["state"] == "joined" and joined["role"] == "counselor"
            yield client, counselor


def chat(text: str, uid: str | None = None) -> str:
    return json.dumps({"type": "chat.message", "id": uid or str(uuid.uuid4()), "text": text})


def test_chat_relays_between_participants_through_daphne(daphne_server):
    booking = live_booking()
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        async with pair(daphne_server, booking, client_h, counselor_h) as (client, counselor):
            uid = str(uuid.uuid4())
            await counselor.send(chat("I am listening.", uid))
            for side in (client, counselor):
                got = await next_of(side, "chat.message")
                assert got["id"] == uid and got["text"] == "I am listening." and got["seq"] == 1
                assert got["sender"] == booking.counselor_id

    asyncio.run(scenario())
    assert SessionMessage.objects.filter(booking=booking).count() == 1


def test_resending_an_id_through_daphne_is_not_stored_twice(daphne_server):
    booking = live_booking()
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        async with pair(daphne_server, booking, client_h, counselor_h) as (client, counselor):
            uid = str(uuid.uuid4())
            await client.send(chat("are you there?", uid))
            first = await next_of(client, "chat.message")
            assert (await next_of(counselor, "chat.message"))["seq"] == 1
            await client.send(chat("are you there?", uid))  # e.g. after a lost acknowledgement
            again = await next_of(client, "chat.message")
            assert again == first
            assert await silent(counselor)

    asyncio.run(scenario())
    assert SessionMessage.objects.filter(booking=booking).count() == 1
    assert Booking.objects.get(pk=booking.pk).message_seq == 1


def test_reconnecting_with_after_seq_replays_what_was_missed(daphne_server):
    booking = live_booking()
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        async with open_ws(daphne_server, booking.pk, counselor_h) as counselor:
            await next_of(counselor, "session.config")
            async with open_ws(daphne_server, booking.pk, client_h) as client:
                await next_of(client, "session.config")
                assert (await next_of(counselor, "presence"))["state"] == "joined"
                await counselor.send(chat("first"))
                seen = await next_of(client, "chat.message")
                assert (await next_of(counselor, "chat.message"))["seq"] == 1
            # The client's connection drops; the counselor goes on writing.
            assert (await next_of(counselor, "presence"))["state"] == "left"
            for seq, text in ((2, "second"), (3, "third")):
                await counselor.send(chat(text))
                assert (await next_of(counselor, "chat.message"))["seq"] == seq
            async with open_ws(
                daphne_server, booking.pk, client_h, f"?after_seq={seen['seq']}"
            ) as client:
                config = await next_of(client, "session.config")
                assert config["last_seq"] == 3
                replay = [json.loads(await asyncio.wait_for(client.recv(), 5)) for _ in range(2)]
                assert [(f["type"], f["seq"], f["text"]) for f in replay] == [
                    ("chat.message", 2, "second"),
                    ("chat.message", 3, "third"),
                ]
                assert await silent(client, 0.3)

    asyncio.run(scenario())


def test_stranger_is_refused_with_4403_through_daphne(daphne_server):
    booking = live_booking()
    stranger_h = headers(ClientFactory())
    assert asyncio.run(refused_with(daphne_server, booking.pk, stranger_h)) == 4403


def test_early_join_is_refused_with_4403_through_daphne(daphne_server):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=10)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    assert asyncio.run(refused_with(daphne_server, booking.pk, headers(booking.client))) == 4403


def test_anonymous_is_refused_with_4401_through_daphne(daphne_server):
    booking = live_booking()
    assert asyncio.run(refused_with(daphne_server, booking.pk, None)) == 4401


def test_fast_sender_is_slowed_through_daphne_and_nothing_is_lost(daphne_server):
    booking = live_booking()
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)
    uids = [str(uuid.uuid4()) for _ in range(15)]

    def spend_this_second_elsewhere():
        """As another tab of the same client would: this second's and the next one's chat
        allowance used up in the shared Redis counter. Fifteen lines inside one second would
        do it alone, but a loaded machine can spread their handling over two seconds."""
        now = int(time.time())
        with redis.Redis.from_url(settings.REDIS_URL) as r:
            for second in (now, now + 1):
                key = (
                    f"{settings.CACHE_KEY_PREFIX}:rate:chat:{booking.pk}:{booking.client.pk}:"
                    f"{second}"
                )
                r.set(key, settings.CHAT_RATE_PER_SECOND, ex=3)

    async def scenario():
        async with pair(daphne_server, booking, client_h, counselor_h) as (client, counselor):
            await asyncio.sleep(1 - time.time() % 1 + 0.01)
            spend_this_second_elsewhere()
            for i, uid in enumerate(uids):
                await client.send(chat(f"line {i}", uid))
            delivered, others = await frames_of(counselor, "chat.message", 15)
            assert [f["seq"] for f in delivered] == list(range(1, 16))
            assert [f["id"] for f in delivered] == uids
            assert others == []
            echoed, notices = await frames_of(client, "chat.message", 15)
            assert [f["seq"] for f in echoed] == list(range(1, 16))
            codes = [f.get("code") for f in notices if f["type"] == "error"]
            assert codes and set(codes) == {"rate_limited"}

    asyncio.run(scenario())
    assert SessionMessage.objects.filter(booking=booking).count() == 15
