"""Hostile input at the edges (core.asgi_guards, accounts.middleware, accounts.receivers):
uploads over the limit refused before they are read, WebSocket frames that are too big or
binary, a foreign Origin on a cookie session, and a token that outlived a password change."""

from __future__ import annotations

import datetime as dt
import json
import socket
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.asgi import application
from core.asgi_guards import WS_CLOSE_TOO_BIG, WS_MAX_FRAME_BYTES
from tests.factories import BookingFactory

OWN_ORIGIN = (b"origin", b"http://localhost")
FOREIGN_ORIGIN = (b"origin", b"https://evil.example")


def _raw_request(base: str, head: str, body_chunks=()) -> bytes:
    """Send a request's head (and some body) on a raw socket, without finishing the body,
    and return what the server answers: it must answer without having read it all."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(head.encode())
        try:
            for chunk in body_chunks:
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: what we want
        # The head and the body may come in separate packets; the server closes after both.
        answer = b""
        while chunk := _recv_or_nothing(conn):
            answer += chunk
        return answer


def _recv_or_nothing(conn: socket.socket) -> bytes:
    try:
        return conn.recv(65536)
    except (ConnectionResetError, TimeoutError):
        return b""


def test_an_upload_announced_over_the_limit_is_refused_before_its_body(asgi_server):
    head = (
        "POST /api/v1/bookings/1/messages/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 50000000\r\n\r\n"
    )
    answer = _raw_request(asgi_server, head)  # not one byte of the body sent
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"code": "too_large"' in answer


def test_a_streamed_upload_is_cut_off_once_it_passes_the_limit(asgi_server):
    head = (
        "POST /api/v1/bookings/1/messages/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # 6 MB sent of a body that never ends: the answer comes without the last chunk.
    answer = _raw_request(asgi_server, head, [framed] * 96)
    assert answer.startswith(b"HTTP/1.1 413")


def test_any_other_request_body_over_django_s_form_limit_is_refused(asgi_server):
    head = (
        "POST /api/v1/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 3000000\r\n\r\n"
    )
    assert _raw_request(asgi_server, head).startswith(b"HTTP/1.1 413")


def test_a_small_request_goes_through(asgi_server):
    import httpx

    response = httpx.post(f"{asgi_server}/api/v1/auth/token/", json={"username": "x"})
    assert response.status_code == 400


# --- WebSockets --------------------------------------------------------------------------

db = database_sync_to_async


def _live_booking():
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30))


def _session_cookie(user) -> tuple[bytes, bytes]:
    browser = Client()
    browser.force_login(user)
    return (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode())


def _token(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Token {Token.objects.get_or_create(user=user)[0].key}".encode())


async def _connect(booking_id: int, headers) -> tuple[WebsocketCommunicator, bool, object]:
    comm = WebsocketCommunicator(application, f"/ws/sessions/{booking_id}/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def _joined(comm: WebsocketCommunicator) -> bool:
    """Whether the room let the socket in (its first frame is session.config)."""
    output = await comm.receive_output(timeout=5)
    return output["type"] == "websocket.send" and '"session.config"' in output.get("text", "")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_cookie_session_from_a_foreign_origin_is_refused():
    booking = await db(_live_booking)()
    cookie = await db(_session_cookie)(booking.client)
    comm, connected, _ = await _connect(booking.pk, [FOREIGN_ORIGIN, cookie])
    assert not connected
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_cookie_session_from_its_own_origin_gets_in():
    booking = await db(_live_booking)()
    cookie = await db(_session_cookie)(booking.client)
    comm, connected, _ = await _connect(booking.pk, [OWN_ORIGIN, cookie])
    assert connected and await _joined(comm)
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_cookie_session_with_no_origin_is_refused():
    booking = await db(_live_booking)()
    cookie = await db(_session_cookie)(booking.client)
    comm, connected, _ = await _connect(booking.pk, [cookie])
    assert not connected
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_token_client_without_origin_gets_in():
    booking = await db(_live_booking)()
    token = await db(_token)(booking.client)
    comm, connected, _ = await _connect(booking.pk, [token])
    assert connected and await _joined(comm)
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_frame_over_64_kb_closes_the_socket_cleanly():
    booking = await db(_live_booking)()
    comm, connected, _ = await _connect(booking.pk, [OWN_ORIGIN, await db(_token)(booking.client)])
    assert connected and await _joined(comm)
    await comm.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * WS_MAX_FRAME_BYTES}))
    while True:
        output = await comm.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == WS_CLOSE_TOO_BIG
    await comm.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_binary_frame_gets_an_error_and_the_socket_stays():
    booking = await db(_live_booking)()
    comm, connected, _ = await _connect(booking.pk, [OWN_ORIGIN, await db(_token)(booking.client)])
    assert connected and await _joined(comm)
    await comm.send_to(bytes_data=json.dumps({"type": "ping"}).encode())
    frame = json.loads((await comm.receive_output(timeout=5))["text"])
    assert (frame["type"], frame["code"]) == ("error", "binary_not_supported")
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "pong"
    await comm.disconnect()


def _change_password(user) -> None:
    user.set_password("a-brand-new-pass-phrase-7")
    user.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_token_made_before_a_password_change_is_refused():
    booking = await db(_live_booking)()
    token = await db(_token)(booking.client)
    await db(_change_password)(booking.client)
    comm, connected, _ = await _connect(booking.pk, [OWN_ORIGIN, token])
    assert connected  # the room accepts, then closes with its code
    output = await comm.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}
    await comm.disconnect()


@pytest.mark.django_db
def test_a_token_made_before_a_password_change_is_refused_by_the_api():
    from tests.factories import ClientFactory

    user = ClientFactory()
    key = Token.objects.create(user=user).key
    _change_password(user)
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


@pytest.mark.django_db
def test_saving_an_account_without_a_new_password_keeps_its_token():
    from tests.factories import ClientFactory

    user = ClientFactory()
    key = Token.objects.create(user=user).key
    user.timezone = "Europe/London"
    user.save()
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
