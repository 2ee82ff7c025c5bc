"""Scenes for the matching tests."""

import datetime as dt

from django.utils import timezone

from matching.models import Presence
from tests.factories import CounselorProfileFactory


def on_duty(profile=None, *, seen_seconds_ago: int = 0, **profile_kwargs):
    """A verified counselor on talk-now duty (a fresh heartbeat unless told otherwise)."""
    profile = profile or CounselorProfileFactory(**profile_kwargs)
    Presence.objects.update_or_create(
        counselor=profile,
        defaults={
            "online": True,
            "last_seen_at": timezone.now() - dt.timedelta(seconds=seen_seconds_ago),
        },
    )
    return profile


def talk_now(**overrides) -> dict:
    return {
        "topic": "anxiety",
        "mode": "text",
        "language": "zh",
        "duration_minutes": 15,
        "when": "now",
        **overrides,
    }
