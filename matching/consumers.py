"""`/ws/counselor/`: a counselor's talk-now desk. Offers are pushed here the moment a round
makes them; the socket renews on-duty presence with heartbeats and can accept or decline."""

import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from accounts.models import User
from core.exceptions import Conflict
from core.realtime import DirectDispatch, duty_group, user_group
from matching import services
from matching.models import Offer
from matching.selectors import offer_frame, offers_for_counselor, presence_of

# The desk's database work runs on a pool of threads of its own, not on asgiref's one
# thread-sensitive thread: with a hundred desks open, heartbeats and accepts queued there
# behind each other (and behind every other socket's work in the process).
_DB_THREADS = ThreadPoolExecutor(max_workers=settings.ROOM_DB_THREADS, thread_name_prefix="desk-db")
db = functools.partial(database_sync_to_async, thread_sensitive=False, executor=_DB_THREADS)


@db
def _desk(user: User) -> dict:
    pending = offers_for_counselor(user=user).filter(status=Offer.Status.PENDING)
    presence = presence_of(counselor_id=user.pk)
    return {
        "type": "desk",
        "presence": {
            "online": presence["online"],
            "expires_at": presence["expires_at"].isoformat() if presence["expires_at"] else None,
        },
        "offers": [offer_frame(o, language=user.language) for o in pending],
    }


@db
def _act(user: User, action: str, offer_id) -> dict:
    try:
        if action == "offer.accept":
            offer = services.offer_accept(counselor=user, offer_id=int(offer_id))
            return {"type": "offer.accepted", "id": offer.pk, "booking": offer.request.booking_id}
        offer = services.offer_decline(counselor=user, offer_id=int(offer_id))
        return {"type": "offer.declined", "id": offer.pk}
    except (TypeError, ValueError):
        return {"type": "error", "code": "bad_id", "detail": "Offer id must be an integer."}
    except ObjectDoesNotExist:
        return {"type": "error", "code": "not_found", "detail": "No such offer.", "id": offer_id}
    except Conflict as exc:
        return {"type": "error", "code": exc.code, "detail": exc.message, "id": offer_id}
    except (ValidationError, PermissionDenied) as exc:
        return {"type": "error", "code": "invalid", "detail": str(exc), "id": offer_id}


logger = logging.getLogger(__name__)


class CounselorConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Every database call goes through `db`, so events are dispatched on the event loop
    without Channels' per-event connection sweep."""

    async def connect(self):
        await self.accept()  # so that a refusal carries its close code
        self.user = self.scope.get("user")
        self.joined = False
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=4401)
            return
        if self.user.role != User.Role.COUNSELOR:
            logger.warning(
                "counselor socket refused for user %s (role %s)", self.user.pk, self.user.role
            )
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(duty_group(self.user.pk), self.channel_name)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        self.joined = True
        await self.send_json(await _desk(self.user))

    async def disconnect(self, code):
        if self.joined:
            await self.channel_layer.group_discard(duty_group(self.user.pk), self.channel_name)
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "presence.heartbeat":
            renewed = await db(services.presence_heartbeat)(counselor_id=self.user.pk)
            await self.send_json({"type": "presence", "online": renewed})
        elif kind in ("offer.accept", "offer.decline"):
            await self.send_json(await _act(self.user, kind, content.get("id")))
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {"type": "error", "code": "unknown_type", "detail": f"Unknown frame type {kind!r}."}
            )

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json(
                {"type": "error", "code": "bad_json", "detail": "Frames are JSON objects."}
            )

    async def duty_frame(self, event):
        await self.send_json(event["frame"])

    async def room_frame(self, event):
        pass  # frames for session rooms reach the room's own socket

    async def staff_frame(self, event):
        pass

    async def account_closed(self, event):
        await self.close(code=4401)
