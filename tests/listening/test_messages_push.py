"""An async message sent over HTTP reaches a participant who has the room open."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.asgi import application
from tests.conftest import api_as
from tests.factories import BookingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_async_message_is_pushed_to_the_open_room():
    start = timezone.now().replace(second=0, microsecond=0)
    booking = await database_sync_to_async(BookingFactory)(
        start=start, end=start + dt.timedelta(minutes=30)
    )
    key = await database_sync_to_async(
        lambda: Token.objects.create(user=booking.counselor.user).key
    )()
    room = WebsocketCommunicator(
        application,
        f"/ws/sessions/{booking.pk}/",
        headers=[(b"authorization", f"Token {key}".encode()), (b"origin", b"http://localhost")],
    )
    assert (await room.connect())[0]
    assert (await room.receive_json_from())["type"] == "session.config"

    def post():
        return api_as(booking.client).post(
            f"/api/v1/bookings/{booking.pk}/messages/", {"text": "running late"}, format="json"
        )

    response = await database_sync_to_async(post)()
    assert response.status_code == 201
    frame = await room.receive_json_from(timeout=5)
    assert frame["type"] == "chat.message" and frame["text"] == "running late"
    await room.disconnect()
