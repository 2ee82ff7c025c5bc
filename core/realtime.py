"""Pushing events to WebSocket consumers through the Channels layer (Redis).

Every group name lives here, so a producer in one app and the consumer in another agree on
it without importing each other. The failure policy is one for all pushes: best effort. A push
tells a socket about a row that is already committed (the row is the record); a socket that
misses one sees the change on its next read or reconnect, so a channel-layer outage is logged,
never raised into the step that made the change.

Use `push_on_commit` inside a transaction, so nobody hears of a change that was rolled back;
`push` only where the change is already committed (a consumer, a task after its claim)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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
