"""The session room consumer, through Channels' WebsocketCommunicator and the real Redis layer.

Each test sets a scene in the database (committed: `transaction=True`, because the consumer
reads it from other threads), opens one or two in-process sockets and checks the frames."""

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.services import user_suspend
from config.asgi import application
from listening import services
from listening.models import Booking, SessionMessage
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://localhost")
db = database_sync_to_async


def live_booking(**kwargs) -> Booking:
    """A confirmed 30-minute session that started a minute ago (its room is open)."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), **kwargs)


def booking_at(start: dt.datetime, minutes: int = 30, **kwargs) -> Booking:
    return BookingFactory(
        start=start, end=start + dt.timedelta(minutes=minutes), duration_minutes=minutes, **kwargs
    )


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def message_count(booking_id: int) -> int:
    return SessionMessage.objects.filter(booking_id=booking_id).count()


def booking_state(booking_id: int) -> Booking:
    return Booking.objects.get(pk=booking_id)


def chat(text: str, uid: str | None = None) -> dict:
    return {"type": "chat.message", "id": uid or str(uuid.uuid4()), "text": text}


@pytest_asyncio.fixture
async def sockets():
    """`await sockets.open(user, booking_id, query)` opens a communicator (handshake accepted;
    the consumer may still refuse with a close code); `await sockets.join(...)` also reads
    `session.config`. Every socket is disconnected at the end, even when a test fails."""

    class Sockets:
        def __init__(self):
            self.opened = []

        async def open(self, user=None, booking_id=0, query="", token=None):
            headers = [ORIGIN]
            if token is None and user is not None:
                token = await db(token_for)(user)
            if token is not None:
                headers.append((b"authorization", f"Token {token}".encode()))
            comm = WebsocketCommunicator(
                application, f"/ws/sessions/{booking_id}/{query}", headers=headers
            )
            connected, _ = await comm.connect(timeout=5)
            assert connected
            self.opened.append(comm)
            return comm

        async def join(self, user, booking_id, query=""):
            comm = await self.open(user, booking_id, query)
            config = await comm.receive_json_from(timeout=5)
            assert config["type"] == "session.config", config
            comm.config = config
            return comm

        async def pair(self, booking):
            """Client then counselor in the room; the client's `joined` notice is consumed."""
            client = await self.join(booking.client, booking.pk)
            counselor = await self.join(booking.counselor.user, booking.pk)
            joined = await client.receive_json_from(timeout=5)
            assert joined["type"] == "presence" and joined["state"] == "joined", joined
            return client, counselor

    s = Sockets()
    yield s
    # A consumer cancelled in the very moment its channel-layer receive starts its first Redis
    # BZPOPMIN only stops when that times out (5 s; redis-py swallows the cancellation), so
    # let the receives settle before hanging up, and hang up all sockets at once.
    await asyncio.sleep(0.05)

    async def hang_up(comm):
        with contextlib.suppress(BaseException):  # already gone, or it failed in the test
            await comm.disconnect(timeout=2)

    await asyncio.gather(*(hang_up(comm) for comm in s.opened))


async def close_code(comm, timeout=5) -> int:
    out = await comm.receive_output(timeout=timeout)
    assert out["type"] == "websocket.close", out
    return out.get("code", 1000)


async def frames_until(
    comm, count: int, kind: str = "chat.message", timeout=5
) -> tuple[list, list]:
    """Read until `count` frames of `kind` arrived; returns (those, every other frame)."""
    wanted, others = [], []
    while len(wanted) < count:
        frame = await comm.receive_json_from(timeout=timeout)
        (wanted if frame["type"] == kind else others).append(frame)
    return wanted, others


# --- Who may enter, and when ---------------------------------------------------------------------


async def test_stranger_is_refused_with_4403(sockets):
    booking = await db(live_booking)()
    stranger = await db(ClientFactory)()
    comm = await sockets.open(stranger, booking.pk)
    assert await close_code(comm) == 4403


async def test_other_counselor_is_refused_with_4403(sockets):
    booking = await db(live_booking)()
    other = await db(CounselorProfileFactory)()
    comm = await sockets.open(other.user, booking.pk)
    assert await close_code(comm) == 4403


async def test_anonymous_is_refused_with_4401(sockets):
    booking = await db(live_booking)()
    comm = await sockets.open(None, booking.pk)
    assert await close_code(comm) == 4401


async def test_unknown_token_is_refused_with_4401(sockets):
    booking = await db(live_booking)()
    comm = await sockets.open(None, booking.pk, token="0" * 40)
    assert await close_code(comm) == 4401


async def test_joining_ten_minutes_before_start_is_refused_with_4403(sockets):
    booking = await db(booking_at)(timezone.now() + dt.timedelta(minutes=10))
    comm = await sockets.open(booking.client, booking.pk)
    assert await close_code(comm) == 4403


async def test_room_opens_five_minutes_before_start(sockets):
    booking = await db(booking_at)(timezone.now() + dt.timedelta(minutes=4, seconds=30))
    comm = await sockets.join(booking.client, booking.pk)
    assert comm.config["booking"]["id"] == booking.pk


async def test_joining_after_the_end_is_refused_with_4403(sockets):
    booking = await db(booking_at)(timezone.now() - dt.timedelta(minutes=40))
    comm = await sockets.open(booking.counselor.user, booking.pk)
    assert await close_code(comm) == 4403


async def test_cancelled_booking_is_refused_with_4403(sockets):
    booking = await db(live_booking)(status=Booking.Status.CANCELLED)
    comm = await sockets.open(booking.client, booking.pk)
    assert await close_code(comm) == 4403


async def test_unknown_booking_is_refused_with_4403(sockets):
    client = await db(ClientFactory)()
    comm = await sockets.open(client, 987654321)
    assert await close_code(comm) == 4403


async def test_refusal_of_a_stranger_is_logged(sockets, caplog):
    booking = await db(live_booking)()
    stranger = await db(ClientFactory)()
    with caplog.at_level(logging.WARNING, logger="listening.consumers"):
        comm = await sockets.open(stranger, booking.pk)
        assert await close_code(comm) == 4403
    [record] = [r for r in caplog.records if r.name == "listening.consumers"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "refused" in message and str(booking.pk) in message and str(stranger.pk) in message
    assert "not a participant" in message


async def test_refusal_of_an_early_join_is_logged_with_its_reason(sockets, caplog):
    booking = await db(booking_at)(timezone.now() + dt.timedelta(minutes=10))
    with caplog.at_level(logging.WARNING, logger="listening.consumers"):
        comm = await sockets.open(booking.client, booking.pk)
        assert await close_code(comm) == 4403
    messages = [r.getMessage() for r in caplog.records if r.name == "listening.consumers"]
    assert len(messages) == 1 and "refused" in messages[0] and "not open yet" in messages[0]


async def test_refusal_of_anonymous_is_logged(sockets, caplog):
    booking = await db(live_booking)()
    with caplog.at_level(logging.WARNING, logger="listening.consumers"):
        comm = await sockets.open(None, booking.pk)
        assert await close_code(comm) == 4401
    messages = [r.getMessage() for r in caplog.records if r.name == "listening.consumers"]
    assert (
        len(messages) == 1 and "not authenticated" in messages[0] and str(booking.pk) in messages[0]
    )


async def test_joining_is_recorded_for_the_no_show_check(sockets):
    booking = await db(live_booking)()
    await sockets.join(booking.client, booking.pk)
    state = await db(booking_state)(booking.pk)
    assert state.client_joined_at is not None and state.counselor_joined_at is None


# --- session.config ---------------------------------------------------------------------------------


async def test_session_config_carries_ice_servers_from_settings(sockets, settings):
    settings.ICE_SERVERS = [
        {"urls": ["stun:stun.example.org:3478"]},
        {"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"},
    ]
    settings.TURN_URLS, settings.TURN_SECRET = [], ""  # no per-session TURN credentials added
    booking = await db(live_booking)()
    comm = await sockets.join(booking.client, booking.pk)
    assert comm.config["ice_servers"] == settings.ICE_SERVERS


async def test_session_config_describes_the_booking_and_role(sockets):
    booking = await db(live_booking)(mode="video")
    client = await sockets.join(booking.client, booking.pk)
    counselor = await sockets.join(booking.counselor.user, booking.pk)
    assert client.config["role"] == "client" and counselor.config["role"] == "counselor"
    assert client.config["booking"] == {
        "id": booking.pk,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "duration_minutes": 30,
        "mode": "video",
    }
    assert client.config["last_seq"] == 0


# --- Chat -----------------------------------------------------------------------------------------


async def test_chat_message_reaches_both_sides(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    uid = str(uuid.uuid4())
    await client.send_json_to(chat("你好", uid))
    for side in (client, counselor):
        frame = await side.receive_json_from(timeout=5)
        assert frame["type"] == "chat.message"
        assert frame["id"] == uid and frame["seq"] == 1 and frame["text"] == "你好"
        assert frame["sender"] == booking.client_id and frame["sent_at"]
    assert await db(message_count)(booking.pk) == 1


async def test_chat_from_the_counselor_reaches_the_client(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await counselor.send_json_to(chat("I am here."))
    frame = await client.receive_json_from(timeout=5)
    assert frame["type"] == "chat.message" and frame["text"] == "I am here."
    assert frame["sender"] == booking.counselor_id and frame["seq"] == 1


async def test_chat_is_stored_with_consecutive_seqs(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to(chat("one"))
    await counselor.send_json_to(chat("two"))
    await client.send_json_to(chat("three"))
    got, _ = await frames_until(client, 3)
    assert sorted(f["seq"] for f in got) == [1, 2, 3]
    stored = await db(
        lambda: list(
            SessionMessage.objects.filter(booking_id=booking.pk)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
    )()
    assert stored == [1, 2, 3]
    assert (await db(booking_state)(booking.pk)).message_seq == 3


async def test_resending_an_id_returns_the_stored_message_to_the_sender_only(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    uid = str(uuid.uuid4())
    await client.send_json_to(chat("first try", uid))
    first = await client.receive_json_from(timeout=5)
    assert (await counselor.receive_json_from(timeout=5))["id"] == uid
    await client.send_json_to(chat("first try, edited", uid))
    again = await client.receive_json_from(timeout=5)
    assert again == first  # the stored message, not the new text
    assert await counselor.receive_nothing(timeout=0.5)
    assert await db(message_count)(booking.pk) == 1
    assert (await db(booking_state)(booking.pk)).message_seq == 1


async def test_reusing_the_other_sides_id_is_refused(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    uid = str(uuid.uuid4())
    await client.send_json_to(chat("mine", uid))
    await client.receive_json_from(timeout=5)
    await counselor.receive_json_from(timeout=5)
    await counselor.send_json_to(chat("also mine?", uid))
    error = await counselor.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "duplicate_id"
    assert await client.receive_nothing(timeout=0.3)
    assert await db(message_count)(booking.pk) == 1


def _store(booking, sender, *texts):
    for text in texts:
        services.message_post(
            booking_id=booking.pk, sender=sender, uid=uuid.uuid4(), text=text, live=True
        )


async def test_after_seq_replays_missed_messages_in_order(sockets):
    booking = await db(live_booking)()
    await db(_store)(booking, booking.counselor.user, "one", "two", "three", "four")
    comm = await sockets.join(booking.client, booking.pk, "?after_seq=2")
    assert comm.config["last_seq"] == 4
    replay = [await comm.receive_json_from(timeout=5) for _ in range(2)]
    assert [(f["type"], f["seq"], f["text"]) for f in replay] == [
        ("chat.message", 3, "three"),
        ("chat.message", 4, "four"),
    ]
    assert await comm.receive_nothing(timeout=0.3)


async def test_after_seq_zero_replays_everything(sockets):
    booking = await db(live_booking)()
    await db(_store)(booking, booking.client, "a", "b")
    comm = await sockets.join(booking.client, booking.pk, "?after_seq=0")
    replay = [await comm.receive_json_from(timeout=5) for _ in range(2)]
    assert [f["seq"] for f in replay] == [1, 2]


async def test_no_replay_without_after_seq(sockets):
    booking = await db(live_booking)()
    await db(_store)(booking, booking.client, "a", "b")
    comm = await sockets.join(booking.client, booking.pk)
    assert comm.config["last_seq"] == 2
    assert await comm.receive_nothing(timeout=0.3)


async def test_reconnecting_with_after_seq_gets_what_was_sent_meanwhile(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await counselor.send_json_to(chat("before"))
    seen = await client.receive_json_from(timeout=5)
    await client.disconnect()
    echo = await counselor.receive_json_from(timeout=5)
    assert echo["type"] == "chat.message" and echo["seq"] == 1  # its own message, back
    assert (await counselor.receive_json_from(timeout=5))["state"] == "left"
    for text in ("while away 1", "while away 2"):
        await counselor.send_json_to(chat(text))
        await counselor.receive_json_from(timeout=5)
    back = await sockets.join(booking.client, booking.pk, f"?after_seq={seen['seq']}")
    replay = [await back.receive_json_from(timeout=5) for _ in range(2)]
    assert [(f["seq"], f["text"]) for f in replay] == [(2, "while away 1"), (3, "while away 2")]


# --- Frames that are refused -------------------------------------------------------------------------


async def _assert_nothing_changed(booking, client, counselor):
    assert await counselor.receive_nothing(timeout=0.3)
    assert await client.receive_nothing(timeout=0.1)
    assert await db(message_count)(booking.pk) == 0
    assert (await db(booking_state)(booking.pk)).message_seq == 0


async def test_message_over_4000_characters_gets_too_long_and_is_not_stored(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to(chat("x" * 4001))
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "too_long"
    await _assert_nothing_changed(booking, client, counselor)


async def test_message_of_exactly_4000_characters_is_accepted(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to(chat("x" * 4000))
    frame = await counselor.receive_json_from(timeout=5)
    assert frame["type"] == "chat.message" and len(frame["text"]) == 4000


async def test_non_json_frame_gets_an_error_and_changes_nothing(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_to(text_data="this is {not json")
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_json"
    await _assert_nothing_changed(booking, client, counselor)


async def test_json_that_is_not_an_object_gets_an_error(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_to(text_data=json.dumps(["chat.message", "hi"]))
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_frame"
    await _assert_nothing_changed(booking, client, counselor)


async def test_unknown_type_gets_an_error_and_changes_nothing(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to({"type": "chat.delete", "id": str(uuid.uuid4())})
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "unknown_type"
    await _assert_nothing_changed(booking, client, counselor)


async def test_chat_without_id_gets_an_error_and_is_not_stored(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to({"type": "chat.message", "text": "no id"})
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_id"
    await _assert_nothing_changed(booking, client, counselor)


async def test_chat_with_an_id_that_is_not_a_uuid_gets_an_error(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to({"type": "chat.message", "id": 42, "text": "hi"})
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_id"
    await _assert_nothing_changed(booking, client, counselor)


async def test_blank_chat_gets_an_error_and_is_not_stored(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await client.send_json_to(chat("   \n "))
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_text"
    await _assert_nothing_changed(booking, client, counselor)


async def test_ping_gets_pong(sockets):
    booking = await db(live_booking)()
    comm = await sockets.join(booking.client, booking.pk)
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=5) == {"type": "pong"}


# --- Rate limiting --------------------------------------------------------------------------------


async def test_more_than_ten_messages_a_second_are_slowed_not_lost(sockets, settings):
    # The limit is counted when the room handles a message, one at a time: on a loaded machine
    # the room may handle fewer than ten a second and so never reach a limit of ten (seen in
    # CI). A limit of three is reached well within the pace of any machine the suite runs on,
    # and the rule under test (slowed, never lost) is the same.
    settings.CHAT_RATE_PER_SECOND = 3
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    uids = [str(uuid.uuid4()) for _ in range(15)]
    # Start right after a second boundary, so all fifteen fall in one counter's second.
    await asyncio.sleep(1 - time.time() % 1 + 0.01)
    for i, uid in enumerate(uids):
        await client.send_json_to(chat(f"message {i}", uid))
    delivered, others = await frames_until(counselor, 15)
    assert [f["seq"] for f in delivered] == list(range(1, 16))
    assert [f["id"] for f in delivered] == uids
    assert others == []  # the other side hears the messages only
    echoed, errors = await frames_until(client, 15)
    assert [f["seq"] for f in echoed] == list(range(1, 16))
    assert errors and {e["code"] for e in errors} == {"rate_limited"}
    assert all(e["type"] == "error" and e["retry_after"] <= 1 for e in errors)
    assert await db(message_count)(booking.pk) == 15


async def test_ten_messages_a_second_are_not_slowed(sockets):
    booking = await db(live_booking)()
    client, _counselor = await sockets.pair(booking)
    await asyncio.sleep(1 - time.time() % 1 + 0.01)
    for i in range(10):
        await client.send_json_to(chat(f"message {i}"))
    _, others = await frames_until(client, 10)
    assert others == []


# --- Presence -------------------------------------------------------------------------------------


async def test_client_sees_the_counselor_join(sockets):
    booking = await db(live_booking)()
    client = await sockets.join(booking.client, booking.pk)
    await sockets.join(booking.counselor.user, booking.pk)
    frame = await client.receive_json_from(timeout=5)
    assert frame == {
        "type": "presence",
        "user": booking.counselor_id,
        "role": "counselor",
        "state": "joined",
    }


async def test_counselor_sees_the_client_join(sockets):
    booking = await db(live_booking)()
    counselor = await sockets.join(booking.counselor.user, booking.pk)
    client = await sockets.join(booking.client, booking.pk)
    frame = await counselor.receive_json_from(timeout=5)
    assert frame == {
        "type": "presence",
        "user": booking.client_id,
        "role": "client",
        "state": "joined",
    }
    assert await client.receive_nothing(timeout=0.3)  # no echo of one's own joining


async def test_typing_is_shown_to_the_other_side_only(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await counselor.send_json_to({"type": "typing"})
    frame = await client.receive_json_from(timeout=5)
    assert frame == {
        "type": "presence",
        "user": booking.counselor_id,
        "role": "counselor",
        "state": "typing",
    }
    assert await counselor.receive_nothing(timeout=0.3)


async def test_leaving_is_shown_to_the_other_side(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await counselor.disconnect()
    frame = await client.receive_json_from(timeout=5)
    assert frame == {
        "type": "presence",
        "user": booking.counselor_id,
        "role": "counselor",
        "state": "left",
    }


# --- WebRTC signalling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, payload",
    [
        ("webrtc.offer", {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}),
        ("webrtc.answer", {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}),
        (
            "webrtc.ice",
            {
                "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
            },
        ),
    ],
)
async def test_signalling_is_relayed_to_the_other_side_only_and_not_stored(sockets, kind, payload):
    booking = await db(live_booking)(mode="video")
    client, counselor = await sockets.pair(booking)
    await client.send_json_to({"type": kind, "payload": payload})
    frame = await counselor.receive_json_from(timeout=5)
    assert frame == {"type": kind, "payload": payload, "from": "client"}
    assert await client.receive_nothing(timeout=0.3)
    assert await db(message_count)(booking.pk) == 0
    assert (await db(booking_state)(booking.pk)).message_seq == 0


async def test_counselor_signalling_reaches_the_client(sockets):
    booking = await db(live_booking)(mode="voice")
    client, counselor = await sockets.pair(booking)
    await counselor.send_json_to(
        {"type": "webrtc.answer", "payload": {"type": "answer", "sdp": "v=0"}}
    )
    frame = await client.receive_json_from(timeout=5)
    assert frame == {
        "type": "webrtc.answer",
        "payload": {"type": "answer", "sdp": "v=0"},
        "from": "counselor",
    }
    assert await counselor.receive_nothing(timeout=0.3)


async def test_signalling_without_payload_gets_an_error_and_is_not_relayed(sockets):
    booking = await db(live_booking)(mode="video")
    client, counselor = await sockets.pair(booking)
    await client.send_json_to({"type": "webrtc.offer"})
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "invalid_payload"
    assert await counselor.receive_nothing(timeout=0.3)


# --- Suspension -----------------------------------------------------------------------------------


async def test_suspending_an_account_closes_its_socket_with_4401(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    started = time.monotonic()
    await db(user_suspend)(user_id=booking.client_id)
    assert await close_code(client, timeout=5) == 4401
    assert time.monotonic() - started < 5
    assert await counselor.receive_nothing(timeout=0.3)  # the other side's socket stays open


async def test_suspended_account_cannot_reconnect(sockets):
    booking = await db(live_booking)()
    token = await db(token_for)(booking.client)
    await db(user_suspend)(user_id=booking.client_id)
    comm = await sockets.open(None, booking.pk, token=token)
    assert await close_code(comm) == 4401


# --- The end of the session -----------------------------------------------------------------------


def _end_now(booking_id: int) -> bool:
    """The session's end has just passed (as if its clock task ran on time)."""
    Booking.objects.filter(pk=booking_id).update(end=timezone.now() - dt.timedelta(seconds=1))
    return services.session_end(booking_id=booking_id)


async def test_session_end_tells_both_sides_then_closes_their_sockets(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    assert await db(_end_now)(booking.pk)
    for side in (client, counselor):
        assert await side.receive_json_from(timeout=5) == {
            "type": "session.ended",
            "status": "completed",
        }
        assert await close_code(side) == 1000
    state = await db(booking_state)(booking.pk)
    assert state.status == Booking.Status.COMPLETED and state.ended_at and state.completed_at


async def test_chat_arriving_after_session_ended_is_refused_as_session_closed(sockets):
    booking = await db(live_booking)()
    client, _counselor = await sockets.pair(booking)
    assert await db(_end_now)(booking.pk)
    assert (await client.receive_json_from(timeout=5))["type"] == "session.ended"
    assert await close_code(client) == 1000
    # A frame already on its way when the server closed still reaches the consumer.
    await client.send_json_to(chat("one more thing"))
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "session_closed"
    assert await db(message_count)(booking.pk) == 0


async def test_chat_after_the_end_time_is_refused_even_before_the_clock_runs(sockets):
    booking = await db(live_booking)()
    client, counselor = await sockets.pair(booking)
    await db(
        lambda: Booking.objects.filter(pk=booking.pk).update(
            end=timezone.now() - dt.timedelta(seconds=1)
        )
    )()
    await client.send_json_to(chat("still there?"))
    error = await client.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "session_closed"
    assert await counselor.receive_nothing(timeout=0.3)
    assert await db(message_count)(booking.pk) == 0


async def test_ended_session_cannot_be_rejoined(sockets):
    booking = await db(live_booking)()
    client = await sockets.join(booking.client, booking.pk)
    assert await db(_end_now)(booking.pk)
    assert (await client.receive_json_from(timeout=5))["type"] == "session.ended"
    again = await sockets.open(booking.client, booking.pk)
    assert await close_code(again) == 4403
