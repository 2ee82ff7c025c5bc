"""`/ws/staff/`: the live crisis alert queue for on-call supervisors and staff."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.realtime import DirectDispatch, user_group
from ethics.models import CrisisAlert
from ethics.selectors import alert_queue
from ethics.services import STAFF_GROUP, alert_frame

logger = logging.getLogger(__name__)


@database_sync_to_async
def _open_alerts() -> list[dict]:
    return [
        alert_frame(a)["alert"]
        for a in alert_queue().exclude(status=CrisisAlert.Status.RESOLVED)[:200]
    ]


class StaffConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Its one database call is `_open_alerts` (database_sync_to_async, which closes stale
    connections in its own thread around the call), and no handler touches the ORM on the
    event loop (`scope["user"]` is resolved by the auth middleware before connect), so events
    are dispatched without Channels' per-event connection sweep (core.realtime)."""

    async def connect(self):
        await self.accept()  # so that a refusal carries its close code
        self.user = self.scope.get("user")
        self.joined = False
        if self.user is None or not self.user.is_authenticated:
            logger.warning("staff socket refused: not authenticated")
            await self.close(code=4401)
            return
        if not self.user.is_crisis_responder:
            logger.warning(
                "staff socket refused for user %s (role %s)", self.user.pk, self.user.role
            )
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(STAFF_GROUP, self.channel_name)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        self.joined = True
        await self.send_json({"type": "crisis.queue", "alerts": await _open_alerts()})

    async def disconnect(self, code):
        if self.joined:
            await self.channel_layer.group_discard(STAFF_GROUP, self.channel_name)
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def staff_frame(self, event):
        await self.send_json(event["frame"])

    async def room_frame(self, event):
        pass  # frames for session rooms; a staff socket has none

    async def account_closed(self, event):
        await self.close(code=4401)
