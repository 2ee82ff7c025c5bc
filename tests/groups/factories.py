"""Groups for the tests: opened through the service (so the seat rows exist), then moved in
time with a plain UPDATE when a test needs one that has started."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from groups.models import GroupSession
from groups.services import group_create, group_join


def open_group(
    counselor, *, capacity: int = 4, minutes: int = 30, price="20", start=None, clients=()
):
    """A group of `counselor` (a CounselorProfile) starting tomorrow, or at `start` (moved
    there after creation: it may be in the past), with `clients` seated in order."""
    group = group_create(
        counselor_user=counselor.user,
        title="After graduation",
        topic="The first weeks after leaving university",
        start=timezone.now() + dt.timedelta(days=1),
        duration_minutes=minutes,
        capacity=capacity,
        price=Decimal(price),
    )
    for client in clients:
        group_join(group_id=group.pk, client=client)
    if start is not None:
        GroupSession.objects.filter(pk=group.pk).update(start=start)
    return GroupSession.objects.get(pk=group.pk)


def live_group(counselor, **kwargs):
    """A group that started a minute ago (its room is open)."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return open_group(counselor, start=start, **kwargs)
