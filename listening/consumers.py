"""The session room, `/ws/sessions/{booking_id}/`: chat, presence, WebRTC signalling and
the clock's frames. Thin: who may enter is a selector, every write is a service."""

import asyncio
import functools
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from core.exceptions import Conflict
from core.realtime import (
    DirectDispatch,
    JsonFrames,
    loop_redis,
    query_int,
    room_event,
    room_group,
    user_group,
)
from listening import selectors, services
from listening.ice import ice_servers_for
from listening.selectors import booking_get_for_room

logger = logging.getLogger(__name__)

# Database work from the room runs on a pool of threads, not Channels' default single
# "thread-sensitive" thread: otherwise every socket of the process queues on that one thread.
# Each thread has its own connection, returned to the psycopg pool after every call.
_DB_THREADS = ThreadPoolExecutor(max_workers=settings.ROOM_DB_THREADS, thread_name_prefix="room-db")
db = functools.partial(database_sync_to_async, thread_sensitive=False, executor=_DB_THREADS)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
SIGNALLING = {"webrtc.offer", "webrtc.answer", "webrtc.ice"}
MAX_SIGNAL_BYTES = 64 * 1024
CALL_MODES = {"voice", "video"}


def _valid_signal(kind: str, payload) -> bool:
    """The shape of RTCSessionDescriptionInit / RTCIceCandidateInit; contents are the browsers' business."""
    if not isinstance(payload, dict):
        return False
    if kind == "webrtc.ice":
        return isinstance(payload.get("candidate"), str)
    expected = "offer" if kind == "webrtc.offer" else "answer"
    return payload.get("type") == expected and isinstance(payload.get("sdp"), str)


class SessionConsumer(DirectDispatch, JsonFrames, AsyncJsonWebsocketConsumer):
    """Every database call goes through `db` (a thread of _DB_THREADS), so events are
    dispatched on the event loop without Channels' per-event connection sweep."""

    async def connect(self):
        # Accept first: a refusal must reach the client as a close code (4401/4403), which a
        # rejected handshake (HTTP 403) cannot carry.
        await self.accept()
        self.user = self.scope.get("user")
        self.booking_id = int(self.scope["url_route"]["kwargs"]["booking_id"])
        self.joined = False
        if self.user is None or not self.user.is_authenticated:
            logger.warning(
                "session room %s refused: not authenticated (%s)", self.booking_id, self._peer()
            )
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            booking = await db(booking_get_for_room)(user=self.user, booking_id=self.booking_id)
        except PermissionDenied as exc:
            logger.warning(
                "session room %s refused for user %s: %s (%s)",
                self.booking_id,
                self.user.pk,
                exc,
                self._peer(),
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.role = booking.role_of(self.user)
        self.mode = booking.mode
        self.redis = loop_redis()
        await self.channel_layer.group_add(room_group(self.booking_id), self.channel_name)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        self.joined = True
        await db(services.room_join)(booking_id=self.booking_id, user=self.user)
        present = await self._presence_change(+1)
        await self.send_json(
            {
                "type": "session.config",
                "ice_servers": ice_servers_for(user_id=self.user.pk, session_end=booking.end),
                "role": self.role,
                "booking": {
                    "id": booking.pk,
                    "start": booking.start.isoformat(),
                    "end": booking.end.isoformat(),
                    "duration_minutes": booking.duration_minutes,
                    "mode": booking.mode,
                },
                "last_seq": booking.message_seq,
                # Who else is in the room right now (presence frames then tell of changes).
                "present": sorted(role for role in present if role != self.role),
            }
        )
        after_seq = self._after_seq()
        if after_seq is not None:
            for frame in await db(selectors.messages_after)(
                booking_id=self.booking_id, after_seq=after_seq
            ):
                await self.send_json(frame)
        await self._to_room(
            {"type": "presence", "user": self.user.pk, "role": self.role, "state": "joined"},
            exclude_self=True,
        )

    async def disconnect(self, code):
        if not self.joined:
            return
        if self.role not in await self._presence_change(
            -1
        ):  # "left" only when their last tab closes
            await self._to_room(
                {"type": "presence", "user": self.user.pk, "role": self.role, "state": "left"},
                exclude_self=True,
            )
        await self.channel_layer.group_discard(room_group(self.booking_id), self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    # --- from the participant -------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        kind = content["type"]
        if kind == "chat.message":
            await self._chat(content)
        elif kind in SIGNALLING:
            if await self._rate_limit("signal", settings.SIGNAL_RATE_PER_SECOND, kind):
                await self._signal(kind, content)
        elif kind == "typing":
            if await self._rate_limit("signal", settings.SIGNAL_RATE_PER_SECOND, kind):
                await self._to_room(
                    {
                        "type": "presence",
                        "user": self.user.pk,
                        "role": self.role,
                        "state": "typing",
                    },
                    exclude_self=True,
                )
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("unknown_type", f"Unknown frame type {kind[:40]!r}.")

    async def _chat(self, content):
        text = content.get("text")
        try:
            uid = uuid.UUID(str(content.get("id")))
        except ValueError:
            await self._error("invalid_id", "chat.message needs an id (a UUID made by the sender).")
            return
        if not isinstance(text, str) or not text.strip():
            await self._error("invalid_text", "chat.message needs some text.", id=str(uid))
            return
        if len(text) > settings.CHAT_MAX_CHARS:
            await self._error(
                "too_long",
                f"A message is at most {settings.CHAT_MAX_CHARS} characters.",
                id=str(uid),
            )
            return
        await self._rate_limit(
            "chat", settings.CHAT_RATE_PER_SECOND, "chat.message", slow_down=True
        )
        try:
            message, created = await db(services.message_post)(
                booking_id=self.booking_id,
                sender=self.user,
                uid=uid,
                text=text,
                live=True,
                notify=False,
            )
        except Conflict as exc:
            await self._error(exc.code, exc.message, id=str(uid))
            return
        except (ValidationError, ObjectDoesNotExist):
            await self._error("invalid_text", "This message cannot be stored.", id=str(uid))
            return
        if created:  # committed: to both sides, built from the text we hold (stored stripped)
            await self._to_room(selectors.message_frame(message, text=text.strip()))
        else:  # a resend: the stored message goes back to the sender only
            await self.send_json(await db(selectors.message_frame)(message))

    async def _rate_limit(self, bucket, per_second, kind, *, slow_down=False) -> bool:
        """A Redis counter per participant, booking and second, so the limit holds across
        server processes and tabs. Chat over the limit is slowed, not dropped: the sender is
        told and this socket waits for the next second. Signalling over its (higher) limit
        is dropped with an error frame. Returns whether to go on."""
        now = time.time()
        key = (
            f"{settings.CACHE_KEY_PREFIX}:rate:{bucket}:{self.booking_id}:{self.user.pk}:{int(now)}"
        )
        # One round trip, no MULTI/EXEC: INCR is atomic on its own, and an EXPIRE that came
        # late (or twice) only moves the end of a key that lives two seconds anyway.
        async with self.redis.pipeline(transaction=False) as pipe:
            count, _ = await pipe.incr(key).expire(key, 2).execute()
        if count <= per_second:
            return True
        wait = 1 - (now - int(now))
        if slow_down:
            await self._error(
                "rate_limited",
                "Too many messages; slowing down.",
                retry_after=round(wait, 3),
                frame=kind,
            )
            await asyncio.sleep(wait)
            return True
        await self._error(
            "rate_limited",
            "Too many frames; this one was dropped.",
            retry_after=round(wait, 3),
            frame=kind,
        )
        return False

    async def _signal(self, kind, content):
        if self.mode not in CALL_MODES:
            await self._error(
                "mode_not_allowed", "Voice and video are for voice or video sessions.", frame=kind
            )
            return
        payload = content.get("payload")
        if not _valid_signal(kind, payload) or len(json.dumps(payload)) > MAX_SIGNAL_BYTES:
            await self._error(
                "invalid_payload", f"{kind} needs a valid payload of at most 64 KiB.", frame=kind
            )
            return
        # Relayed to the other participant only; never stored.
        await self._to_room(
            {"type": kind, "payload": payload, "from": self.role}, exclude_self=True
        )

    # --- to the participant ---------------------------------------------------------------

    async def room_frame(self, event):
        if event.get("exclude_user") == self.user.pk:
            return
        frame = event["frame"]
        try:
            await self.send_json(frame)
        except OSError:
            # The socket closed while this frame was on its way (ASGI: a send on a closed
            # connection raises an OSError). Nothing is lost: a reopened socket replays the
            # room from the database (`after_seq`).
            return
        if frame["type"] in ("session.ended", "session.no_show"):  # the room is over
            await self.close(code=1000)

    async def account_closed(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def staff_frame(self, event):
        pass  # the on-call queue's frames; they belong on /ws/staff/

    # --- helpers --------------------------------------------------------------------------

    async def _to_room(self, frame, *, exclude_self=False):
        await self.channel_layer.group_send(
            room_group(self.booking_id),
            room_event(frame, exclude_user=self.user.pk if exclude_self else None),
        )

    async def _presence_change(self, delta: int) -> set[str]:
        """Count this participant's open sockets in Redis (they may use two tabs or two
        server processes); returns the roles present afterwards."""
        key = f"{settings.CACHE_KEY_PREFIX}:presence:{self.booking_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            _, _, counts = (
                await pipe.hincrby(key, self.role, delta)
                .expire(key, 24 * 3600)
                .hgetall(key)
                .execute()
            )
        return {role.decode() for role, count in counts.items() if int(count) > 0}

    def _after_seq(self):
        return query_int(self.scope, "after_seq")

    def _peer(self):
        client = self.scope.get("client") or ("?", 0)
        return f"{client[0]}"
