"""Presence across tabs, and the Origin rule for token clients."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.asgi import application
from tests.factories import BookingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def live_booking():
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return await database_sync_to_async(BookingFactory)(
        start=start, end=start + dt.timedelta(minutes=30)
    )


async def open_room(user, booking, *, origin=True):
    key = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
    headers = [(b"authorization", f"Token {key}".encode())]
    if origin:
        headers.append((b"origin", b"http://localhost"))
    comm = WebsocketCommunicator(application, f"/ws/sessions/{booking.pk}/", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_second_joiner_learns_who_is_already_there():
    booking = await live_booking()
    client = await open_room(booking.client, booking)
    assert (await client.receive_json_from())["present"] == []
    counselor = await open_room(booking.counselor.user, booking)
    assert (await counselor.receive_json_from())["present"] == ["client"]
    await client.disconnect()
    await counselor.disconnect()


async def test_closing_one_of_two_tabs_does_not_say_left():
    booking = await live_booking()
    counselor = await open_room(booking.counselor.user, booking)
    await counselor.receive_json_from()
    tab1 = await open_room(booking.client, booking)
    tab2 = await open_room(booking.client, booking)
    for tab in (tab1, tab2):
        await tab.receive_json_from()
    assert (await counselor.receive_json_from())["state"] == "joined"
    assert (await counselor.receive_json_from())["state"] == "joined"
    await tab1.disconnect()
    assert await counselor.receive_nothing(timeout=0.5)
    await tab2.disconnect()
    frame = await counselor.receive_json_from(timeout=3)
    assert frame["type"] == "presence" and frame["state"] == "left"
    await counselor.disconnect()


async def test_token_client_without_origin_header_is_let_in():
    booking = await live_booking()
    comm = await open_room(booking.client, booking, origin=False)
    assert (await comm.receive_json_from())["type"] == "session.config"
    await comm.disconnect()


async def test_cookie_less_request_from_a_foreign_origin_is_rejected():
    booking = await live_booking()
    comm = WebsocketCommunicator(
        application, f"/ws/sessions/{booking.pk}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await comm.connect()
    assert not connected


async def test_no_show_closes_the_room():
    from listening.services import session_no_show_check

    booking = await live_booking()
    counselor = await open_room(booking.counselor.user, booking)
    await counselor.receive_json_from()
    await database_sync_to_async(
        lambda: BookingFactory._meta.model.objects.filter(pk=booking.pk).update(
            start=timezone.now() - dt.timedelta(minutes=11),
            end=timezone.now() + dt.timedelta(minutes=19),
        )
    )()
    assert await database_sync_to_async(session_no_show_check)(booking_id=booking.pk) == "client"
    frame = await counselor.receive_json_from(timeout=5)
    assert frame == {"type": "session.no_show", "party": "client"}
    assert (await counselor.receive_output(timeout=5))["type"] == "websocket.close"
