"""Events for the session room `/ws/sessions/{booking_id}/`."""

from core.realtime import group_send


def room_group(booking_id: int) -> str:
    return f"session.{booking_id}"


def room_event(frame: dict, *, exclude_user: int | None = None) -> dict:
    """The channel-layer event carrying `frame` to the room's sockets (handled by `room_frame`)."""
    return {"type": "room.frame", "frame": frame, "exclude_user": exclude_user}


def room_send(booking_id: int, frame: dict, *, exclude_user: int | None = None) -> None:
    """Send `frame` to every socket in the booking's room (but those of `exclude_user`)."""
    group_send(room_group(booking_id), room_event(frame, exclude_user=exclude_user))
