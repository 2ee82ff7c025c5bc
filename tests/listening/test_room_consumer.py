"""The session room consumer, through Channels' WebsocketCommunicator and the real Redis layer."""

import datetime as dt
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from listening.models import Booking, SessionMessage
from tests.factories import BookingFactory, ClientFactory
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def live_booking(**kwargs) -> Booking:
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


async def connect(user, booking_id, query=""):
    token = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
    comm = WebsocketCommunicator(application, f"/ws/sessions/{booking_id}/{query}",
                                 headers=[(b"authorization", f"Token {token}".encode()), (b"origin", b"http://localhost")])
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_chat_message_reaches_both_sides():
    booking = await database_sync_to_async(live_booking)()
    client = await connect(booking.client, booking.pk)
    assert (await client.receive_json_from())["type"] == "session.config"
    counselor = await connect(booking.counselor.user, booking.pk)
    assert (await counselor.receive_json_from())["type"] == "session.config"
    presence = await client.receive_json_from()
    assert presence["type"] == "presence" and presence["state"] == "joined"
    uid = str(uuid.uuid4())
    await client.send_json_to({"type": "chat.message", "id": uid, "text": "你好"})
    for side in (client, counselor):
        frame = await side.receive_json_from(timeout=5)
        assert frame["type"] == "chat.message"
        assert frame["id"] == uid and frame["seq"] == 1 and frame["text"] == "你好"
    assert await database_sync_to_async(SessionMessage.objects.count)() == 1
    await client.disconnect()
    await counselor.disconnect()


async def test_stranger_is_refused_with_4403():
    booking = await database_sync_to_async(live_booking)()
    stranger = await database_sync_to_async(ClientFactory)()
    comm = await connect(stranger, booking.pk)
    out = await comm.receive_output(timeout=5)
    assert out == {"type": "websocket.close", "code": 4403}
