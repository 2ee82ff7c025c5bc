"""Private calendar subscriptions (`/calendar/<token>.ics`): the writes and the one read.

The token is the credential (calendars cannot sign in), so only its sha256 is stored, the
secret is shown once, and a new feed revokes the old one. These live beside the bookings'
services rather than in them: they touch no booking."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.export import iso
from listening.models import Booking, CalendarFeed

FEED_PAST = dt.timedelta(days=30)
FEED_MAX_EVENTS = 500


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_urls(request, token: str) -> dict:
    """The feed's https:// URL and its webcal:// twin (what Apple and Outlook subscribe to)."""
    url = request.build_absolute_uri(reverse("listening:calendar-feed-ics", args=[token]))
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


@transaction.atomic
def calendar_feed_create(*, user: User) -> tuple[CalendarFeed, str]:
    """A new private feed for the user (client or counselor): returns the feed and its secret
    token, which is never stored nor shown again. The user's live feed, if any, is revoked in
    the same transaction (one live feed per user)."""
    User.objects.select_for_update().only("pk").get(pk=user.pk)  # one new feed at a time
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, token_hash=token_hash(token), created_at=now)
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, user: User) -> bool:
    """Revoke the user's live feed: its URL answers 404 from now on. Idempotent."""
    return bool(
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def calendar_feed_live(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_open(*, token: str) -> User:
    """The owner of the live feed whose secret is `token`, recording the fetch; otherwise
    CalendarFeed.DoesNotExist (revoked, unknown or a deactivated account: a 404). Looked up by
    the hash, so the comparison never touches the secret itself."""
    feed = CalendarFeed.objects.select_related("user").get(
        token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now())
    return feed.user


def calendar_feed_bookings(*, user: User, now: dt.datetime | None = None) -> QuerySet[Booking]:
    """What the feed shows: the user's own sessions (as client or counselor) from 30 days ago
    on, cancelled ones included (as cancelled), soonest first, at most FEED_MAX_EVENTS."""
    now = now or timezone.now()
    return (
        Booking.objects.filter(Q(client=user) | Q(counselor_id=user.pk), start__gte=now - FEED_PAST)
        .select_related("counselor", "client")
        .only(
            "pk",
            "start",
            "end",
            "duration_minutes",
            "status",
            "ics_sequence",
            "client_id",
            "client__username",
            "counselor_id",
            "counselor__display_name",
        )
        .order_by("start", "pk")[:FEED_MAX_EVENTS]
    )


def calendar_feeds_erase(*, user: User) -> None:
    """Listening's part of deleting an account: every live feed revoked. Call inside the
    deletion's transaction."""
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def calendar_feeds_export(*, user: User) -> list[dict]:
    """The user's feeds for their data export: when made, fetched and revoked; never a token
    or its hash."""
    return [
        {
            "created_at": iso(f.created_at),
            "last_fetched_at": iso(f.last_fetched_at),
            "revoked_at": iso(f.revoked_at),
            "live": f.revoked_at is None,
        }
        for f in CalendarFeed.objects.filter(user=user).order_by("created_at", "pk")
    ]
