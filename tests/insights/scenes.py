"""Seeded scenes with known answers for the insights tests."""

import datetime as dt

from django.utils import timezone

from ethics.models import Referral, Resource
from listening.models import Booking
from matching.models import MatchRequest
from tests.factories import BookingFactory, ClientFactory, FeedbackFactory

# A Monday at 10:00 in Beijing (02:00 UTC), long enough ago that every 30-day window is over.
BASE = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
PERIOD = {"from": "2026-05-01", "to": "2026-09-30"}


def completed(*, counselor, client, start, topic="work stress", mode="text", duration=30):
    return BookingFactory(
        counselor=counselor,
        client=client,
        start=start,
        duration_minutes=duration,
        topic=topic,
        mode=mode,
        status=Booking.Status.COMPLETED,
        completed_at=start + dt.timedelta(minutes=duration),
    )


def seed_outcomes(counselor) -> list:
    """Six clients, one session each on 1 June (a Monday), feedback changes (post − pre)
    -4, -3, -2, -1, 0, -2: mean -2, sample sd √2, 95% t-interval -2 ± 2.5706·√2/√6 =
    [-3.48, -0.52]; four of six reduced by 2 or more. Client 0 comes back 10 days later (no
    feedback): 7 sessions, 6 feedbacks, 1 return of 7. Two referrals, one accepted."""
    clients = ClientFactory.create_batch(6)
    changes = [(8, 4), (7, 4), (6, 4), (5, 4), (5, 5), (9, 7)]
    bookings = []
    for i, (client, (pre, post)) in enumerate(zip(clients, changes, strict=True)):
        booking = completed(counselor=counselor, client=client, start=BASE + dt.timedelta(hours=i))
        FeedbackFactory(booking=booking, pre_distress=pre, post_distress=post, comment="")
        bookings.append(booking)
    completed(counselor=counselor, client=clients[0], start=BASE + dt.timedelta(days=10))
    # Not Resource.objects.first(): a transactional (e2e) test flushes the seeded directory.
    resource = Resource.objects.create(
        kind=Resource.Kind.LONG_TERM_COUNSELING,
        name="Scene clinic",
        region="CN",
        language="zh",
        source="tests/insights/scenes.py",
        last_verified=dt.date(2026, 1, 1),
    )
    for booking, status in (
        (bookings[1], Referral.Status.ACCEPTED),
        (bookings[2], Referral.Status.DECLINED),
    ):
        Referral.objects.create(
            booking=booking,
            counselor=counselor,
            client=booking.client,
            resource=resource,
            reason="Longer-term support",
            status=status,
        )
    return clients


def talk_now(*, client, created_at, status=MatchRequest.Status.MATCHED, wait=60, topic="stress"):
    """A closed talk-now request; a matched one with its booking (by a counselor of its own)."""
    matched = status == MatchRequest.Status.MATCHED
    booking = (
        BookingFactory(client=client, start=created_at + dt.timedelta(minutes=1))
        if matched
        else None
    )
    return MatchRequest.objects.create(
        booking=booking,
        client=client,
        topic=topic,
        mode="text",
        language="zh",
        duration_minutes=15,
        when=MatchRequest.When.NOW,
        status=status,
        created_at=created_at,
        deadline_at=created_at + dt.timedelta(minutes=10),
        matched_at=created_at + dt.timedelta(seconds=wait) if matched else None,
        closed_at=created_at + dt.timedelta(minutes=10),
    )


def now() -> dt.datetime:
    return timezone.now()
