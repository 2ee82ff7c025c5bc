"""The group room, through Channels' WebsocketCommunicator, the production ASGI application
and the real Redis channel layer: pseudonyms, mute, remove, the crisis side channel, replay
and the end. Scenes are committed (`transaction=True`): the consumer reads from its threads."""

import asyncio
import contextlib
import datetime as dt
import json
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.asgi import application
from groups import services
from groups.models import GroupCrisisLink, GroupMessage, GroupSession
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.groups.factories import live_group, open_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

db = database_sync_to_async
HIGH = "I have decided to kill myself tonight, I have the pills ready"


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def scene(n_clients=3, **kwargs):
    counselor = CounselorProfileFactory(user__username="counselor-chen")
    clients = [ClientFactory(username=f"secret-name-{i}") for i in range(n_clients)]
    return live_group(counselor, clients=clients, **kwargs), counselor, clients


def chat(text, uid=None):
    return {"type": "chat.message", "id": uid or str(uuid.uuid4()), "text": text}


@pytest_asyncio.fixture
async def sockets():
    class Sockets:
        def __init__(self):
            self.opened = []

        async def open(self, user, group_id, query=""):
            headers = [(b"origin", b"http://localhost")]
            if user is not None:
                token = await db(token_for)(user)
                headers.append((b"authorization", f"Token {token}".encode()))
            comm = WebsocketCommunicator(
                application, f"/ws/groups/{group_id}/{query}", headers=headers
            )
            connected, _ = await comm.connect(timeout=5)
            assert connected
            self.opened.append(comm)
            return comm

        async def join(self, user, group_id, query=""):
            comm = await self.open(user, group_id, query)
            comm.config = await comm.receive_json_from(timeout=5)
            assert comm.config["type"] == "session.config", comm.config
            return comm

    s = Sockets()
    yield s
    await asyncio.sleep(0.05)

    async def hang_up(comm):
        with contextlib.suppress(BaseException):
            await comm.disconnect(timeout=2)

    await asyncio.gather(*(hang_up(c) for c in s.opened))


async def next_of(comm, kind, timeout=5):
    """Read frames until one of `kind` arrives; returns it (others are dropped)."""
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def close_code(comm, timeout=5):
    while True:
        out = await comm.receive_output(timeout=timeout)
        if out["type"] == "websocket.close":
            return out.get("code", 1000)


async def nothing_of(comm, *kinds, wait=0.5) -> bool:
    """True when no frame of `kinds` arrives within `wait` seconds (other frames are read and
    dropped). `receive_nothing`, unlike a timed-out receive, leaves the consumer running."""
    while not await comm.receive_nothing(timeout=wait):
        frame = await comm.receive_json_from(timeout=1)
        if frame["type"] in kinds:
            return False
    return True


async def test_a_stranger_and_anonymous_are_refused(sockets):
    group, _, _ = await db(scene)()
    stranger = await db(ClientFactory)()
    assert await close_code(await sockets.open(stranger, group.pk)) == 4403
    assert await close_code(await sockets.open(None, group.pk)) == 4401


async def test_the_room_is_closed_until_a_few_minutes_before_the_start(sockets):
    counselor = await db(CounselorProfileFactory)()
    client = await db(ClientFactory)()
    start = timezone.now() + dt.timedelta(minutes=20)
    group = await db(open_group)(counselor, clients=[client], start=start)
    assert await close_code(await sockets.open(client, group.pk)) == 4403


async def test_participants_see_seat_pseudonyms_never_names_or_ids(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    second = await sockets.join(clients[1], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    assert first.config["seat"] == 1 and second.config["pseudonym"] == "Participant 2"
    assert [p["seat"] for p in coun.config["participants"]] == [1, 2, 3]
    await first.send_json_to(chat("hello from one"))
    received = [await next_of(c, "chat.message") for c in (first, second, coun)]
    assert {f["pseudonym"] for f in received} == {"Participant 1"}
    for comm in (first, second, coun):
        raw = json.dumps([comm.config, *received])
        assert "secret-name" not in raw
        for c in clients:
            assert f'"sender": {c.pk}' not in raw and f'"user": {c.pk}' not in raw
    assert "sender" not in received[0] and received[0]["seat"] == 1


async def test_the_counselor_writes_as_counselor(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    await coun.send_json_to(chat("welcome, everyone"))
    frame = await next_of(first, "chat.message")
    assert (frame["from"], frame["seat"], frame["pseudonym"]) == ("counselor", None, "Counselor")


async def test_a_reconnecting_participant_gets_what_they_missed(sockets):
    group, counselor, clients = await db(scene)()
    coun = await sockets.join(counselor.user, group.pk)
    for i in range(3):
        await coun.send_json_to(chat(f"line {i}"))
        await next_of(coun, "chat.message")
    late = await sockets.join(clients[2], group.pk, "?after_seq=1")
    replay = [await next_of(late, "chat.message") for _ in range(2)]
    assert [f["seq"] for f in replay] == [2, 3]


async def test_a_resent_line_is_stored_once_and_answered_to_the_sender(sockets):
    group, _, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    uid = str(uuid.uuid4())
    await first.send_json_to(chat("once", uid))
    await next_of(first, "chat.message")
    await first.send_json_to(chat("once", uid))
    again = await next_of(first, "chat.message")
    assert again["id"] == uid
    assert await db(GroupMessage.objects.filter(group_id=group.pk).count)() == 1


async def test_a_muted_participant_is_told_and_their_line_is_refused(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    await coun.send_json_to({"type": "moderation.mute", "seat": 1})
    muted = await next_of(first, "participant.muted")
    assert muted == {
        "type": "participant.muted",
        "seat": 1,
        "pseudonym": "Participant 1",
        "muted": True,
    }
    await first.send_json_to(chat("can anyone hear me"))
    error = await next_of(first, "error")
    assert error["code"] == "muted"
    assert await db(GroupMessage.objects.filter(group_id=group.pk).count)() == 0


async def test_a_participant_cannot_moderate(sockets):
    group, _, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    await first.send_json_to({"type": "moderation.mute", "seat": 2})
    assert (await next_of(first, "error"))["code"] == "forbidden"


async def test_a_removed_participant_is_closed_out_and_cannot_come_back(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    second = await sockets.join(clients[1], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    await coun.send_json_to({"type": "moderation.remove", "seat": 1})
    assert await close_code(first) == 4403
    told = await next_of(second, "participant.removed")
    assert told["seat"] == 1 and "you" not in told
    assert await close_code(await sockets.open(clients[0], group.pk)) == 4403


async def test_a_crisis_line_opens_a_private_channel_only_the_two_can_read(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    second = await sockets.join(clients[1], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    await second.send_json_to(chat(HIGH))
    opened = await next_of(second, "side.opened")
    assert opened["seat"] == 2 and "hotlines" in opened  # the resources are flushed here
    assert (await next_of(coun, "side.opened"))["seat"] == 2
    assert await db(GroupCrisisLink.objects.filter(group_id=group.pk, client=clients[1]).exists)()
    await coun.send_json_to(
        {"type": "side.message", "id": str(uuid.uuid4()), "text": "I'm here with you", "seat": 2}
    )
    private = await next_of(second, "side.message")
    assert (private["from"], private["text"]) == ("counselor", "I'm here with you")
    await second.send_json_to({"type": "side.message", "id": str(uuid.uuid4()), "text": "thanks"})
    assert (await next_of(coun, "side.message"))["text"] in ("I'm here with you", "thanks")
    assert await nothing_of(first, "side.message", "side.opened")


async def test_the_side_channel_replays_to_its_two_ends_only(sockets):
    group, counselor, clients = await db(scene)()

    def crisis_and_reply():
        services.group_message_post(
            group_id=group.pk, sender=clients[0], uid=uuid.uuid4(), text=HIGH
        )
        services.group_side_post(
            group_id=group.pk, sender=counselor.user, uid=uuid.uuid4(), text="call me here", seat=1
        )

    await db(crisis_and_reply)()
    mine = await sockets.join(clients[0], group.pk, "?after_side_seq=0")
    assert mine.config["side_channels"] == [1]
    assert (await next_of(mine, "side.message"))["text"] == "call me here"
    other = await sockets.join(clients[1], group.pk, "?after_side_seq=0")
    assert other.config["side_channels"] == []
    assert await nothing_of(other, "side.message")


async def test_the_end_closes_every_socket(sockets):
    group, counselor, clients = await db(scene)()
    first = await sockets.join(clients[0], group.pk)
    coun = await sockets.join(counselor.user, group.pk)
    await db(GroupSession.objects.filter(pk=group.pk).update)(
        start=timezone.now() - dt.timedelta(minutes=31)
    )
    assert await db(services.group_end)(group_id=group.pk)
    assert (await next_of(first, "session.ended"))["status"] == "ended"
    assert await close_code(first) == 1000
    assert await close_code(coun) == 1000
