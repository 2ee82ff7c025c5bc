"""Pushing events to WebSocket consumers through the Channels layer (Redis).

Every group name lives here, so a producer in one app and the consumer in another agree on
it without importing each other. The failure policy is one for all pushes: best effort. A push
tells a socket about a row that is already committed (the row is the record); a socket that
misses one sees the change on its next read or reconnect, so a channel-layer outage is logged,
never raised into the step that made the change.

Use `push_on_commit` inside a transaction, so nobody hears of a change that was rolled back;
`push` only where the change is already committed (a consumer, a task after its claim)."""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.layers import get_channel_layer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Every connected staff member and on-call supervisor (the staff socket, /ws/staff/).
STAFF_GROUP = "crisis.staff"


def user_group(user_id: int) -> str:
    """Every socket a user has open, whatever the route (used to close them on suspension)."""
    return f"user.{user_id}"


def room_group(booking_id: int) -> str:
    """The sockets in a booking's session room, /ws/sessions/{booking_id}/."""
    return f"session.{booking_id}"


def duty_group(counselor_id: int) -> str:
    """A counselor's talk-now sockets, /ws/counselor/."""
    return f"duty.{counselor_id}"


def room_event(frame: dict, *, exclude_user: int | None = None) -> dict:
    """The channel-layer event carrying `frame` to room sockets (handled by `room_frame`)."""
    return {"type": "room.frame", "frame": frame, "exclude_user": exclude_user}


def duty_event(frame: dict) -> dict:
    """The channel-layer event carrying `frame` to a counselor's talk-now sockets."""
    return {"type": "duty.frame", "frame": frame}


def staff_event(frame: dict) -> dict:
    """The channel-layer event carrying `frame` to staff sockets."""
    return {"type": "staff.frame", "frame": frame}


class DirectDispatch:
    """Mixin for an async consumer (put it before the Channels base class) whose database
    work all goes through `database_sync_to_async`, which closes stale connections in its own
    thread before and after each call.

    Channels' `AsyncConsumer.dispatch` also awaits `aclose_old_connections()` before every
    event, a hop to asgiref's one thread-sensitive thread (shared by every socket of the
    process) that does nothing for such a consumer: with a few hundred sockets each frame
    received and each group event delivered queued on that thread (issue 17). This dispatch
    calls the handler directly on the event loop. Precondition: no handler touches the ORM on
    the event loop."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class JsonFrames:
    """Mixin for a room consumer (the session room, the group room): frames from the browser
    are JSON objects with a string `type`; anything else is answered with an error frame and
    dropped. Frames arriving before `self.joined` (the consumer's connect let the user in)
    are ignored. Subclasses implement `receive_json`."""

    joined = False

    async def receive(self, text_data=None, bytes_data=None):
        if not self.joined:
            return
        try:
            content = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError):
            await self._error("invalid_json", "Frames are JSON objects.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("invalid_frame", "Frames are JSON objects with a type.")
            return
        await self.receive_json(content)

    async def _error(self, code, detail, **extra):
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})


def query_int(scope, name: str) -> int | None:
    """A socket's query-string number (`?after_seq=12`): None when absent, 0 when it is not a
    number, never below 0."""
    values = parse_qs(scope.get("query_string", b"").decode()).get(name)
    try:
        return max(0, int(values[0])) if values else None
    except ValueError:
        return 0


_loop_redis_clients: dict = {}


def loop_redis():
    """One Redis client (and its pool) per event loop, for the consumers' rate limits and
    presence counts, shared by every socket on that loop."""
    loop = asyncio.get_running_loop()
    client = _loop_redis_clients.get(loop)
    if client is None:
        client = _loop_redis_clients[loop] = aioredis.from_url(
            settings.REDIS_URL, max_connections=500
        )
    return client


# --- The channel layer ---------------------------------------------------------------------
#
# channels_redis's pub/sub layer (settings.CHANNEL_LAYERS) with one fix. A process reads each
# group's messages once from its subscription and hands them to the group's local members as
# they are read, so a socket that joined a group this process already listens to also got
# what was published just before it joined, while it sat in the subscriber connection's
# buffer (the list-based layer reads the members at send time; the room's tests assert that
# semantics, e.g. nobody hears of a presence change from before they came in). And a first
# SUBSCRIBE is only written to the socket when `subscribe` returns, not yet done by Redis, so
# a PUBLISH right after group_add could come before it and reach nobody.
#
# Here group_add sends a PING with a token of its own down the subscriber connection after
# the SUBSCRIBE, and the joining channel becomes a member when the receiver reads that PONG:
# Redis answers in order, so everything published before the join point has been read (and
# not handed to the newcomer) and the subscription is in force for everything after it.
# group_add returns once that PONG is read.

_BARRIER = "pianke-join"  # PING payloads: f"{_BARRIER}:{n}"
_BARRIER_SECONDS = 5.0  # no PONG (a reconnect lost it): join anyway, at worst a stale frame


class _Shard(RedisSingleShardConnection):
    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        # Token -> (future, join): the barriers in the order their PINGs were sent.
        self._barriers: collections.OrderedDict[bytes, tuple[asyncio.Future, object]] = (
            collections.OrderedDict()
        )
        self._tokens = itertools.count()

    async def barrier(self, join) -> None:
        """Call `join()` when the subscriber connection reads the answer to a PING sent now
        (so after everything pushed to it before), and return then; after _BARRIER_SECONDS
        without it, call `join()` and return anyway. Precondition: the caller subscribed to
        something on this shard, so that the receiver reads this connection."""
        future = asyncio.get_running_loop().create_future()
        token = f"{_BARRIER}:{next(self._tokens)}".encode()
        async with self._lock:
            self._ensure_redis()
            self._ensure_receiver()
            self._barriers[token] = (future, join)
            await self._pubsub.ping(token)
        try:
            await asyncio.wait_for(asyncio.shield(future), _BARRIER_SECONDS)
        except TimeoutError:
            logger.warning("channel layer: no PONG within %ss; joining anyway", _BARRIER_SECONDS)
            if self._barriers.pop(token, None) is not None:
                join()

    def _receive_message(self, message):
        if message is not None and message.get("type") == "pong":
            token = message.get("data")
            if token in self._barriers:
                # Answers come in the order the PINGs went out, so the barriers before this
                # one lost theirs (a reconnect): they are past their join point too.
                while self._barriers:
                    key, (future, join) = self._barriers.popitem(last=False)
                    join()
                    if not future.done():
                        future.set_result(None)
                    if key == token:
                        break
            return
        super()._receive_message(message)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        # Group channel -> group_add calls in progress, so a last member leaving meanwhile
        # keeps the subscription the newcomer is about to rely on.
        self._joining: collections.Counter[str] = collections.Counter()

    async def group_add(self, group, channel):
        if channel not in self.channels:
            raise RuntimeError("group_add() takes a channel made in this process (new_channel).")
        group_channel = self._get_group_channel_name(group)
        shard = self._get_shard(group_channel)

        def join():
            if channel in self.channels:  # not if the socket went away meanwhile
                self.groups.setdefault(group_channel, set()).add(channel)

        self._joining[group_channel] += 1
        try:
            await shard.subscribe(group_channel)
            await shard.barrier(join)
        finally:
            self._joining[group_channel] -= 1
            if not self._joining[group_channel]:
                del self._joining[group_channel]

    async def group_discard(self, group, channel):
        group_channel = self._get_group_channel_name(group)
        members = self.groups.get(group_channel)
        if not members or channel not in members:
            return
        members.discard(channel)
        if not members:
            del self.groups[group_channel]
            if not self._joining[group_channel]:
                await self._get_shard(group_channel).unsubscribe(group_channel)


def _database_of(host) -> int:
    """The Redis database number a host of CHANNEL_LAYERS names (`db`, or the URL's path)."""
    if isinstance(host, dict):
        if "db" in host:
            return int(host["db"])
        host = host.get("address", "")
    if isinstance(host, str):
        path = urlsplit(host).path.strip("/")
        return int(path) if path.isdigit() else 0
    return 0


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """`channels_redis.pubsub.RedisPubSubChannelLayer` whose group membership starts when
    group_add returns, as with the list-based layer (see above).

    Redis pub/sub channels belong to the whole server, not to a database: two deployments
    (or test runs) on one Redis server with different database numbers and the same key
    prefix would hear each other's groups, the staff socket's crisis alerts included. So the
    database number is part of every channel name here (`PREFIX@dbN`), which keeps them as
    apart as the list-based layer's keys are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = self._kwargs.get("hosts") or [None]
        prefix = self._kwargs.get("prefix", "asgi")
        self._kwargs["prefix"] = f"{prefix}@db{_database_of(hosts[0])}"

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
            return layer


ACCOUNT_CLOSED = {"type": "account.closed"}  # closes every socket of a user group


def group_send(group: str, event: dict) -> None:
    """Send now and raise on failure (for callers with a policy of their own, such as tests)."""
    async_to_sync(get_channel_layer().group_send)(group, event)


def push(group: str, event: dict) -> None:
    """Send now, best effort (see the module docstring)."""
    try:
        group_send(group, event)
    except Exception:  # the committed row is the record; the socket re-syncs
        logger.exception("could not push %s to %s", event.get("type"), group)


def push_on_commit(group: str, event: dict) -> None:
    """Send once the current transaction commits (never if it rolls back), best effort."""
    transaction.on_commit(lambda: push(group, event))


def room_push(booking_id: int, frame: dict, *, exclude_user: int | None = None) -> None:
    push(room_group(booking_id), room_event(frame, exclude_user=exclude_user))


def room_push_on_commit(booking_id: int, frame: dict, *, exclude_user: int | None = None) -> None:
    push_on_commit(room_group(booking_id), room_event(frame, exclude_user=exclude_user))


def duty_push(counselor_id: int, frame: dict) -> None:
    push(duty_group(counselor_id), duty_event(frame))


def duty_push_on_commit(counselor_id: int, frame: dict) -> None:
    push_on_commit(duty_group(counselor_id), duty_event(frame))
