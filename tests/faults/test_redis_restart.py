"""Redis restarted under 20 live chats, on a served app (uvicorn) whose cache, channel layer
and Celery broker are a private redis-server this test started.

Forty participants (a client and a counselor in each of 20 rooms) chat; Redis is killed
(SIGKILL, so it comes back empty: no groups, no presence, no rate-limit counters) while they
go on writing, bookings are made meanwhile (they need only PostgreSQL), and once every
socket has dropped Redis is started again on the same port. The clients behave as the room page does (static/js/room-socket.js
and room-chat.js): each message has an id made by the sender and stays in an outbox until
its own echo comes back; a dropped or silent socket is reopened with `?after_seq=` and the
outbox resent under the same ids; a frame whose id is already shown is not shown again.

At the end every message every participant sent is stored exactly once, each room's
sequence is 1..N without a gap, and each participant has shown every message of the room
exactly once."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import time
import uuid

import httpx
import pytest
import websockets
from django.utils import timezone
from rest_framework.authtoken.models import Token

from listening.models import Booking, SessionMessage
from tests.conftest import start_server, stop_server
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)
from tests.faults.conftest import namespace, served_database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOMS = 20
BEFORE, DURING, AFTER = 3, 2, 3  # messages each participant writes around the outage
OUTAGE_BOOKINGS = 3
ACK_SECONDS = 4.0  # no echo of an outbox message this long: the socket is treated as dead
ORIGIN = "http://localhost"


@pytest.fixture(scope="module")
def redis_server_app(private_redis, django_db_setup, django_db_blocker):
    """uvicorn on the test database with everything Redis on `private_redis` (Celery not
    eager, so even the broker is the one that goes away). (base URL, private_redis)."""
    env = {
        "REDIS_URL": private_redis.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTEST_XDIST_WORKER": namespace("redis-restart"),
    }
    proc, base = start_server("uvicorn", served_database_url(django_db_blocker), extra_env=env)
    yield base, private_redis
    stop_server(proc)


class Participant:
    """One side of a room, as the room page behaves."""

    def __init__(self, base: str, booking_id: int, user_id: int, token: str):
        self.url = base.replace("http://", "ws://") + f"/ws/sessions/{booking_id}/"
        self.booking_id = booking_id
        self.user_id = user_id
        self.headers = {"Authorization": f"Token {token}"}
        self.ws = None
        self.shown: dict[str, dict] = {}  # id -> frame, each shown once
        self.wire = collections.Counter()  # id -> times it arrived (replays included)
        self.outbox: dict[str, tuple[str, float]] = {}  # id -> (text, when last sent)
        self.sent: list[str] = []
        self.connections = 0
        self.drops = 0
        self.deaf = 0  # reopened because an echo never came though Redis was back
        self.redis_up_at: float | None = None
        self._reader = None

    @property
    def after_seq(self) -> int:
        """The highest seq with every seq up to it shown: frames of one room can arrive out of
        order (two senders' commits race to the channel layer), so the plain maximum could
        skip one that had not arrived when the socket dropped."""
        seqs = {frame["seq"] for frame in self.shown.values()}
        n = 0
        while n + 1 in seqs:
            n += 1
        return n

    @property
    def settled(self) -> bool:
        return self.ws is not None and not self.outbox

    async def connect(self) -> bool:
        try:
            ws = await websockets.connect(
                f"{self.url}?after_seq={self.after_seq}",
                additional_headers=self.headers,
                origin=ORIGIN,
                open_timeout=5,
                close_timeout=1,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake):
            return False
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["type"] == "session.config":
                    break
        except (websockets.ConnectionClosed, TimeoutError):
            await ws.close()
            return False
        self.ws = ws
        self.connections += 1
        self._reader = asyncio.create_task(self._read(ws))
        for uid, (text, _at) in list(self.outbox.items()):  # resent under the same id
            await self._send(uid, text)
        return True

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] != "chat.message":
                    continue
                uid = frame["id"]
                self.wire[uid] += 1
                self.shown.setdefault(uid, frame)
                if frame["sender"] == self.user_id:
                    self.outbox.pop(uid, None)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws is ws:
                self.ws = None
                self.drops += 1

    async def write(self, text: str) -> None:
        uid = str(uuid.uuid4())
        self.sent.append(uid)
        self.outbox[uid] = (text, time.monotonic())
        await self._send(uid, text)

    async def _send(self, uid: str, text: str) -> None:
        self.outbox[uid] = (text, time.monotonic())
        if self.ws is None:
            return  # kept in the outbox; resent on reconnect
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.ws.send(json.dumps({"type": "chat.message", "id": uid, "text": text}))

    async def keep_up(self, stop: asyncio.Event) -> None:
        """Reconnect (with backoff) while the socket is down; treat a socket that leaves an
        outbox message without its echo for ACK_SECONDS as dead and reopen it."""
        delay = 0.1
        while not stop.is_set():
            if self.ws is None:
                if await self.connect():
                    delay = 0.1
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
                continue
            now = time.monotonic()
            late = [at for _text, at in self.outbox.values() if now - at > ACK_SECONDS]
            if late:
                # During the outage the server is slow to fail (redis-py retries with backoff
                # before the consumer gives up); after it, a missing echo means a deaf socket.
                if self.redis_up_at is not None and max(late) > self.redis_up_at:
                    self.deaf += 1
                ws, self.ws = self.ws, None
                self.drops += 1
                await ws.close()
                continue
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            await ws.close()
        if self._reader is not None:
            await self._reader


async def until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def live_rooms() -> list[Booking]:
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return [BookingFactory(start=start, end=start + dt.timedelta(minutes=30)) for _ in range(ROOMS)]


def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def test_redis_restart_under_20_live_chats_loses_and_duplicates_nothing(redis_server_app):
    base, redis = redis_server_app
    rooms = live_rooms()
    participants = [
        Participant(base, booking.pk, user.pk, token_of(user))
        for booking in rooms
        for user in (booking.client, booking.counselor.user)
    ]
    # Bookings made while Redis is down: a client each, and a counselor free tomorrow.
    bookers = [ClientFactory() for _ in range(OUTAGE_BOOKINGS)]
    counselor = CounselorProfileFactory()
    tomorrow = next_quarter(days=1).replace(minute=0)
    OneOffWindowFactory(counselor=counselor, start=tomorrow, end=tomorrow + dt.timedelta(hours=3))
    booking_requests = [
        (
            {"Authorization": f"Token {token_of(client)}"},
            {
                "counselor": counselor.pk,
                "start": (tomorrow + dt.timedelta(minutes=45 * i)).isoformat(),
                "duration_minutes": 30,
                "mode": "text",
                "topic": "exam stress",
            },
        )
        for i, client in enumerate(bookers)
    ]

    marks: dict[str, float] = {}

    async def scenario() -> list[httpx.Response]:
        stop = asyncio.Event()
        keepers = [asyncio.create_task(p.keep_up(stop)) for p in participants]
        try:
            await until(lambda: all(p.ws is not None for p in participants), 60, "every socket")
            for i in range(BEFORE):
                for p in participants:
                    await p.write(f"before {i}")
            await until(lambda: all(p.settled for p in participants), 60, "echoes before")

            marks["live"] = time.monotonic()
            redis.kill()
            for i in range(DURING):
                for p in participants:
                    await p.write(f"during {i}")
            async with httpx.AsyncClient(base_url=base, timeout=30) as api:
                booked = [
                    await api.post("/api/v1/bookings/", json=body, headers=headers)
                    for headers, body in booking_requests
                ]
            # Every socket felt it (its consumer failed on Redis at the next write), so Redis
            # comes back to nobody still relying on what it lost (the groups, the presence).
            await until(lambda: all(p.drops for p in participants), 30, "every socket dropped")
            marks["down"] = time.monotonic()
            redis.start()
            marks["up"] = time.monotonic()
            for p in participants:
                p.redis_up_at = marks["up"]

            await until(lambda: all(p.settled for p in participants), 90, "echoes after restart")
            marks["recovered"] = time.monotonic()
            for i in range(AFTER):
                for p in participants:
                    await p.write(f"after {i}")
            by_room = collections.defaultdict(list)
            for p in participants:
                by_room[p.booking_id].append(p)

            def everyone_has_everything():
                for pair in by_room.values():
                    room_ids = {uid for p in pair for uid in p.sent}
                    if any(p.outbox or set(p.shown) != room_ids for p in pair):
                        return False
                return True

            await until(everyone_has_everything, 90, "every message shown on both sides")
            marks["done"] = time.monotonic()
            return booked
        finally:
            stop.set()
            await asyncio.gather(*keepers, return_exceptions=True)
            await asyncio.gather(*(p.close() for p in participants), return_exceptions=True)

    booked = asyncio.run(scenario())
    replayed = sum(n - 1 for p in participants for n in p.wire.values())
    print(  # the figures docs/operations.md quotes (pytest -s shows them)
        f"redis restart: {len(participants)} sockets, outage {marks['down'] - marks['live']:.1f}s,"
        f" recovered {marks['recovered'] - marks['up']:.1f}s after the restart,"
        f" {sum(p.connections for p in participants)} connections,"
        f" {sum(p.drops for p in participants)} drops,"
        f" {sum(p.deaf for p in participants)} deaf sockets reopened after the restart,"
        f" {replayed} frames received again (replays, resends' echoes)"
        f" done {marks.get('done', 0) - marks.get('recovered', 0):.1f}s after recovery"
    )

    # Bookings kept working while Redis was down, each made once.
    assert [r.status_code for r in booked] == [201] * OUTAGE_BOOKINGS, [r.text for r in booked]
    for client in bookers:
        assert Booking.objects.filter(client=client).count() == 1
    # Nothing lost, nothing stored twice, no gap in any room's sequence.
    for booking in rooms:
        pair = [p for p in participants if p.booking_id == booking.pk]
        sent = [uid for p in pair for uid in p.sent]
        stored = list(
            SessionMessage.objects.filter(booking=booking)
            .order_by("seq")
            .values_list("uid", "seq", "sender_id")
        )
        assert len(sent) == 2 * (BEFORE + DURING + AFTER)
        assert sorted(str(uid) for uid, _seq, _sender in stored) == sorted(sent)
        assert [seq for _uid, seq, _sender in stored] == list(range(1, len(sent) + 1))
        assert Booking.objects.get(pk=booking.pk).message_seq == len(sent)
        for p in pair:
            mine = {str(uid) for uid, _seq, sender in stored if sender == p.user_id}
            assert mine == set(p.sent)
            # Shown exactly once each, with the seq it was stored under.
            assert {uid: frame["seq"] for uid, frame in p.shown.items()} == {
                str(uid): seq for uid, seq, _sender in stored
            }
    assert all(p.connections >= 2 for p in participants), "a socket never saw the restart"
    # After the restart no socket was open but deaf (out of the room's group, which Redis
    # forgot): the room page has no echo timeout and would not notice one.
    assert sum(p.deaf for p in participants) == 0
