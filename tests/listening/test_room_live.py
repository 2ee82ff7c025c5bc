"""The session room against a real daphne process, with the `websockets` client library."""

import asyncio
import datetime as dt
import json
import uuid

import pytest
import websockets
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db(transaction=True)


def live_booking(**kwargs):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def ws_url(base: str, booking_id: int, query: str = "") -> str:
    return base.replace("http://", "ws://") + f"/ws/sessions/{booking_id}/{query}"


def headers(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


async def next_of(ws, kind: str, timeout: float = 5.0) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == kind:
            return frame


def test_chat_relays_between_participants_through_daphne(daphne_server):
    booking = live_booking()
    client_h, counselor_h = headers(booking.client), headers(booking.counselor.user)

    async def scenario():
        async with websockets.connect(ws_url(daphne_server, booking.pk), additional_headers=client_h,
                                      origin="http://localhost") as client, \
                websockets.connect(ws_url(daphne_server, booking.pk), additional_headers=counselor_h,
                                   origin="http://localhost") as counselor:
            await next_of(client, "session.config")
            await next_of(counselor, "session.config")
            uid = str(uuid.uuid4())
            await counselor.send(json.dumps({"type": "chat.message", "id": uid, "text": "I am listening."}))
            got = await next_of(client, "chat.message")
            assert got["id"] == uid and got["text"] == "I am listening." and got["seq"] == 1

    asyncio.run(scenario())
