"""Scene-setting shared by the crisis-alert tests (test_escalation*.py, test_alerts_api.py,
test_staff_socket.py, test_resources_api.py). No tests here: helpers and fixtures only."""

import asyncio
import contextlib
import datetime as dt
import importlib

import factory
import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps as django_apps
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from ethics.models import CrisisAlert, OnCallShift
from tests.factories import BookingFactory, UserFactory

HIGH_EN = "I want to kill myself"
HIGH_ZH = "我不想活了"
ORIGIN = (b"origin", b"http://localhost")
db = database_sync_to_async


class SupervisorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    role = User.Role.SUPERVISOR


def seed_directory() -> None:
    """The resource directory as the data migration seeds it. A transactional test flushes the
    tables afterwards (seeded rows included), so tests that read it seed it again (idempotent)."""
    migration = importlib.import_module("ethics.migrations.0002_seed_resources")
    migration.seed(django_apps, None)


@pytest.fixture
def directory(db):
    seed_directory()


def on_shift(user: User, *, around: dt.datetime | None = None) -> OnCallShift:
    now = around or timezone.now()
    return OnCallShift.objects.create(
        supervisor=user, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=8)
    )


def live_booking(**kwargs):
    """A confirmed 30-minute session that started a minute ago (room open, async messages open)."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def soon_booking(**kwargs):
    """A confirmed session in two hours (async messages are open, the room is not)."""
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def bare_alert(booking=None, *, client=None, minutes_ago: float = 0, **kwargs) -> CrisisAlert:
    """An alert row written directly: as if its dispatch never happened (a worker killed, the
    broker down). `notified_at` stays empty unless given."""
    return CrisisAlert.objects.create(
        client=client or booking.client,
        booking=booking,
        source=kwargs.pop("source", CrisisAlert.Source.CHAT),
        reasons=kwargs.pop("reasons", ["client: suicidal-ideation: kill myself"]),
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        **kwargs,
    )


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@pytest_asyncio.fixture
async def ws():
    """In-process sockets on the real Redis channel layer. `await ws.open(path, user)` (handshake
    accepted, the consumer may still close), `await ws.staff(user)` (reads `crisis.queue` into
    `.queue`), `await ws.room(user, booking_id)` (reads `session.config`). All hung up at the end."""

    class Sockets:
        def __init__(self):
            self.opened = []

        async def open(self, path, user=None):
            headers = [ORIGIN]
            if user is not None:
                headers.append((b"authorization", f"Token {await db(token_for)(user)}".encode()))
            from config.asgi import application

            comm = WebsocketCommunicator(application, path, headers=headers)
            connected, _ = await comm.connect(timeout=5)
            assert connected
            self.opened.append(comm)
            return comm

        async def staff(self, user):
            comm = await self.open("/ws/staff/", user)
            first = await comm.receive_json_from(timeout=5)
            assert first["type"] == "crisis.queue", first
            comm.queue = first["alerts"]
            return comm

        async def room(self, user, booking_id):
            comm = await self.open(f"/ws/sessions/{booking_id}/", user)
            first = await comm.receive_json_from(timeout=5)
            assert first["type"] == "session.config", first
            return comm

    sockets = Sockets()
    yield sockets
    await asyncio.sleep(
        0.05
    )  # let the consumers' first channel-layer receives start (see test_room_consumer)

    async def hang_up(comm):
        with contextlib.suppress(BaseException):  # already closed, or the test failed
            await comm.disconnect(timeout=2)

    await asyncio.gather(*(hang_up(comm) for comm in sockets.opened))


async def close_code(comm, timeout=5) -> int:
    out = await comm.receive_output(timeout=timeout)
    assert out["type"] == "websocket.close", out
    return out.get("code", 1000)


async def frames_until(comm, *kinds: str, timeout: float = 10) -> dict[str, dict]:
    """Read frames until one of each of `kinds` arrived; returns {kind: first such frame} plus
    every frame read under the key "_all" (a list)."""
    seen: dict = {"_all": []}
    while not all(k in seen for k in kinds):
        frame = await comm.receive_json_from(timeout=timeout)
        seen["_all"].append(frame)
        seen.setdefault(frame["type"], frame)
    return seen
