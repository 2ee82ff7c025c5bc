"""Pushing events to WebSocket consumers through the Channels layer (Redis).

Call these only after the transaction that made the change has committed
(`transaction.on_commit(...)`), so nobody hears of a change that was rolled back."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def user_group(user_id: int) -> str:
    """Every socket a user has open, whatever the route (used to close them on suspension)."""
    return f"user.{user_id}"


def group_send(group: str, event: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(group, event)
