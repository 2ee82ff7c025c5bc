"""The group room, `/ws/groups/{group_id}/`: chat under seat pseudonyms, the counselor's
moderation (mute, remove), the private side channel a crisis signal opens, and the clock's
frames. Thin: who may enter is a selector, every write is a service.

Text only, by choice: a group has up to nine people, and WebRTC without a media server (an
SFU, out of scope) means a full mesh of up to 36 peer connections, each uploading to every
other, which phones on mobile networks cannot carry. A counselor-only audio stream would
still be a mesh of eight uploads. So groups are text, and one-to-one sessions keep voice
and video."""

import asyncio
import functools
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
    user_group,
)
from groups import selectors, services
from groups.models import pseudonym_for

logger = logging.getLogger(__name__)

# The group rooms' own pool of database threads (see listening.consumers for why not
# Channels' single thread-sensitive one); groups are few, so the pool is small.
_DB_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="group-db")
db = functools.partial(database_sync_to_async, thread_sensitive=False, executor=_DB_THREADS)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class GroupConsumer(DirectDispatch, JsonFrames, AsyncJsonWebsocketConsumer):
    """Every database call goes through `db`; no handler touches the ORM on the event loop."""

    async def connect(self):
        # Accept first, so a refusal reaches the browser as a close code (4401/4403).
        await self.accept()
        self.user = self.scope.get("user")
        self.group_id = int(self.scope["url_route"]["kwargs"]["group_id"])
        self.joined = False
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            entry = await db(selectors.group_get_for_room)(user=self.user, group_id=self.group_id)
        except PermissionDenied as exc:
            logger.warning(
                "group room %s refused for user %s: %s", self.group_id, self.user.pk, exc
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        group = entry.group
        self.role = entry.role
        self.seat = entry.seat.position if entry.seat is not None else None
        self.redis = loop_redis()
        self.groups_joined = [
            services.group_room_group(self.group_id),
            services.group_member_group(self.group_id, self.user.pk),
            user_group(self.user.pk),  # crisis resources and account closure
        ]
        for name in self.groups_joined:
            await self.channel_layer.group_add(name, self.channel_name)
        self.joined = True
        present = await self._presence_change(+1)
        await self.send_json(
            {
                "type": "session.config",
                "role": self.role,
                "seat": self.seat,
                "pseudonym": pseudonym_for(self.seat) if self.seat else "Counselor",
                "muted": bool(entry.seat and entry.seat.muted_at),
                "group": {
                    "id": group.pk,
                    "title": group.title,
                    "topic": group.topic,
                    "start": group.start.isoformat(),
                    "end": group.end.isoformat(),
                    "duration_minutes": group.duration_minutes,
                },
                "last_seq": group.message_seq,
                "last_side_seq": group.side_seq,
                "participants": await db(selectors.group_participants)(group_id=self.group_id),
                "side_channels": await db(selectors.side_channels_for)(
                    group_id=self.group_id, user=self.user, role=self.role
                ),
                "present": sorted(present),
            }
        )
        after_seq = query_int(self.scope, "after_seq")
        if after_seq is not None:
            for frame in await db(selectors.group_messages_after)(
                group_id=self.group_id, after_seq=after_seq
            ):
                await self.send_json(frame)
        after_side = query_int(self.scope, "after_side_seq")
        if after_side is not None:
            for frame in await db(selectors.side_messages_after)(
                group_id=self.group_id, user=self.user, role=self.role, after_seq=after_side
            ):
                await self.send_json(frame)
        await self._to_room({"type": "presence", **self._who(), "state": "joined"})

    async def disconnect(self, code):
        if not self.joined:
            return
        if self._who_key() not in await self._presence_change(-1):
            await self._to_room({"type": "presence", **self._who(), "state": "left"})
        for name in self.groups_joined:
            await self.channel_layer.group_discard(name, self.channel_name)

    # --- from the participant -------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        kind = content["type"]
        if kind == "chat.message":
            await self._write(services.group_message_post, content, side=False)
        elif kind == "side.message":
            await self._write(services.group_side_post, content, side=True)
        elif kind in ("moderation.mute", "moderation.remove"):
            await self._moderate(kind, content)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("unknown_type", f"Unknown frame type {kind[:40]!r}.")

    async def _write(self, service, content, *, side: bool):
        text = content.get("text")
        try:
            uid = uuid.UUID(str(content.get("id")))
        except ValueError:
            await self._error("invalid_id", f"{content['type']} needs an id (a UUID).")
            return
        if not isinstance(text, str) or not text.strip():
            await self._error("invalid_text", "A message needs some text.", id=str(uid))
            return
        if len(text) > settings.CHAT_MAX_CHARS:
            await self._error(
                "too_long",
                f"A message is at most {settings.CHAT_MAX_CHARS} characters.",
                id=str(uid),
            )
            return
        await self._slow_down()
        kwargs = {"group_id": self.group_id, "sender": self.user, "uid": uid, "text": text}
        if side and self.role == "counselor":
            seat = content.get("seat")
            kwargs["seat"] = seat if isinstance(seat, int) else None
        try:
            result = await db(service)(**kwargs)
        except Conflict as exc:
            await self._error(exc.code, exc.message, id=str(uid))
            return
        except PermissionDenied:
            await self._error("forbidden", "You are not in this group.", id=str(uid))
            return
        except (ValidationError, ObjectDoesNotExist) as exc:
            detail = exc.messages[0] if isinstance(exc, ValidationError) else "Not found."
            await self._error("invalid_text", detail, id=str(uid))
            return
        if side:
            return  # the service pushes the side frame to both ends after commit
        message, created, _alert = result
        if created:
            await self._to_room(selectors.group_message_frame(message, text=text.strip()))
        else:  # a resend: the stored line goes back to the sender only
            await self.send_json(await db(selectors.group_message_frame)(message))

    async def _moderate(self, kind, content):
        if self.role != "counselor":
            await self._error("forbidden", "Only the counselor moderates the group.", frame=kind)
            return
        seat = content.get("seat")
        if not isinstance(seat, int) or isinstance(seat, bool):
            await self._error("invalid_seat", f"{kind} needs a seat number.", frame=kind)
            return
        try:
            if kind == "moderation.mute":
                await db(services.group_mute)(
                    group_id=self.group_id,
                    counselor_user=self.user,
                    position=seat,
                    muted=content.get("muted", True) is not False,
                )
            else:
                await db(services.group_remove)(
                    group_id=self.group_id, counselor_user=self.user, position=seat
                )
        except ValidationError:
            await self._error("invalid_seat", "No participant has that seat.", frame=kind)
        except (PermissionDenied, ObjectDoesNotExist):
            await self._error("forbidden", "Only the counselor moderates the group.", frame=kind)

    async def _slow_down(self):
        """Chat over CHAT_RATE_PER_SECOND per sender and second (a Redis counter, so it holds
        across tabs and processes) is slowed, not dropped: this socket waits for the next second."""
        now = time.time()
        key = f"{settings.CACHE_KEY_PREFIX}:rate:group:{self.group_id}:{self.user.pk}:{int(now)}"
        async with self.redis.pipeline(transaction=False) as pipe:
            count, _ = await pipe.incr(key).expire(key, 2).execute()
        if count > settings.CHAT_RATE_PER_SECOND:
            wait = 1 - (now - int(now))
            await self._error("rate_limited", "Too many messages; slowing down.", retry_after=wait)
            await asyncio.sleep(wait)

    # --- to the participant ---------------------------------------------------------------

    async def room_frame(self, event):
        frame = event["frame"]
        try:
            await self.send_json(frame)
        except OSError:
            return  # closed on the way; a reopened socket replays from the database
        if frame["type"] == "session.ended":
            await self.close(code=1000)
        elif frame["type"] == "participant.removed" and frame.get("you"):
            self.joined = False  # the seat is gone: no "left" presence for a removed member
            for name in self.groups_joined:
                await self.channel_layer.group_discard(name, self.channel_name)
            await self._presence_change(-1)
            await self.close(code=CLOSE_FORBIDDEN)

    async def account_closed(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def staff_frame(self, event):
        pass  # the on-call queue's frames (user group); they belong on /ws/staff/

    # --- helpers --------------------------------------------------------------------------

    def _who(self) -> dict:
        return {"role": self.role, "seat": self.seat}

    def _who_key(self) -> str:
        return "counselor" if self.seat is None else f"seat:{self.seat}"

    async def _to_room(self, frame):
        await self.channel_layer.group_send(
            services.group_room_group(self.group_id), room_event(frame)
        )

    async def _presence_change(self, delta: int) -> set[str]:
        """Count this member's open sockets in Redis; returns who is present afterwards
        ("counselor", "seat:3"), never a user id."""
        key = f"{settings.CACHE_KEY_PREFIX}:group-presence:{self.group_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            _, _, counts = (
                await pipe.hincrby(key, self._who_key(), delta)
                .expire(key, 24 * 3600)
                .hgetall(key)
                .execute()
            )
        return {who.decode() for who, count in counts.items() if int(count) > 0}
