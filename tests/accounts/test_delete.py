import datetime as dt
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Intake, User
from config.asgi import application
from listening.models import Booking, SessionMessage
from listening.services import message_post
from tests.conftest import api_as
from tests.factories import BookingFactory, ClientFactory


@pytest.mark.django_db
def test_deleting_my_account_anonymises_it_and_blocks_sign_in(django_capture_on_commit_callbacks):
    client = ClientFactory(username="mei", email="mei@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(client).delete("/api/v1/me/").status_code == 204
    client.refresh_from_db()
    assert client.username == f"deleted-{client.pk}" and client.email == "" and not client.is_active
    assert not client.has_usable_password()
    assert not Intake.objects.filter(user=client).exists()
    from rest_framework.test import APIClient

    assert (
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": "mei", "password": "listen-carefully-42"},
            format="json",
        )
        .status_code
        == 400
    )


@pytest.mark.django_db
def test_deleting_my_account_cancels_future_sessions_and_erases_content(
    django_capture_on_commit_callbacks,
):
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    held = BookingFactory(
        counselor=booking.counselor,
        client=booking.client,
        ethics_hold=True,
        start=start + dt.timedelta(hours=1),
        end=start + dt.timedelta(hours=1, minutes=30),
    )
    for b in (booking, held):
        message_post(booking_id=b.pk, sender=b.client, uid=uuid.uuid4(), text="hello", live=False)
    with django_capture_on_commit_callbacks(execute=True):
        api_as(booking.client).delete("/api/v1/me/")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert not SessionMessage.objects.filter(booking=booking).exists()
    assert SessionMessage.objects.filter(booking=held).count() == 1  # under an ethics hold: kept


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_deleting_an_account_closes_its_open_sockets():
    from workflows.services import user_delete

    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    booking = await database_sync_to_async(BookingFactory)(
        start=start, end=start + dt.timedelta(minutes=30)
    )
    key = await database_sync_to_async(lambda: Token.objects.create(user=booking.client).key)()
    room = WebsocketCommunicator(
        application,
        f"/ws/sessions/{booking.pk}/",
        headers=[(b"authorization", f"Token {key}".encode())],
    )
    assert (await room.connect())[0]
    await room.receive_json_from()
    await database_sync_to_async(user_delete)(user_id=booking.client_id)
    assert await room.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    assert not await database_sync_to_async(
        User.objects.filter(pk=booking.client_id, is_active=True).exists
    )()
