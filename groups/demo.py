"""Demo data, groups' part (`load_demo`): a themed listening group led by a demo counselor,
two days from now at 20:00 in their zone, open for seats. Seeded once: a counselor who
already has a scheduled group is left as they are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.exceptions import Conflict
from counselors.models import CounselorProfile
from groups.models import GroupSession
from groups.services import group_create

DEMO_GROUP = {
    "title": "After graduation: the first months",
    "topic": (
        "Leaving university, looking for work, moving cities: a short group to share what "
        "this change is like with others going through it. 毕业后的头几个月：和同样经历着的人聊聊。"
    ),
    "duration_minutes": 45,
    "capacity": 6,
    "price": Decimal("30.00"),
}


def group_seed(profile: CounselorProfile) -> GroupSession | None:
    """Open the demo group for `profile` unless they have a scheduled one. Returns it, or
    None when there was one already (or the time is taken)."""
    if GroupSession.objects.filter(
        counselor=profile, status=GroupSession.Status.SCHEDULED, start__gt=timezone.now()
    ).exists():
        return None
    zone = ZoneInfo(profile.user.timezone)
    day = (timezone.now().astimezone(zone) + dt.timedelta(days=2)).date()
    start = dt.datetime.combine(day, dt.time(20, 0), tzinfo=zone)
    try:
        return group_create(counselor_user=profile.user, start=start, **DEMO_GROUP)
    except Conflict:  # the counselor has a session then: no demo group
        return None
