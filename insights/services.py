"""The nightly materialisation of the insights facts, and the duty sampler.

`insights_materialise` rebuilds every fact table from the live rows in one transaction: a
concurrent reader sees the previous run's facts until the new ones commit, in a single swap.
The run is claimed by locking the one `InsightsRun` row with SKIP LOCKED, so a second worker
started meanwhile returns at once instead of building it twice."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ethics.models import Referral
from insights.keywords import comment_keywords
from insights.models import (
    DutySample,
    InsightsRun,
    KeywordFact,
    OfferFact,
    RequestFact,
    SessionFact,
)
from listening.models import Booking, Feedback
from matching.models import MatchRequest, Offer, Presence
from matching.selectors import on_duty_q

RETURN_WINDOW = dt.timedelta(days=30)
NEW_COUNSELOR = dt.timedelta(days=30)
REQUEST_OUTCOMES = {
    MatchRequest.Status.MATCHED: RequestFact.Outcome.MATCHED,
    MatchRequest.Status.NO_MATCH: RequestFact.Outcome.NO_MATCH,
    MatchRequest.Status.CANCELLED: RequestFact.Outcome.CANCELLED,
}


def platform_zone() -> ZoneInfo:
    return ZoneInfo(settings.PLATFORM_TIME_ZONE)


def coarse_time(moment: dt.datetime) -> dict:
    """What a fact keeps of a time: the ISO week (its Monday), weekday and hour, in the
    platform's zone."""
    local = moment.astimezone(platform_zone())
    return {
        "week": local.date() - dt.timedelta(days=local.weekday()),
        "weekday": local.weekday(),
        "hour": local.hour,
    }


def _pseudonymiser(salt: bytes):
    def client_key(client_id: int) -> str:
        return hmac.new(salt, str(client_id).encode(), hashlib.sha256).hexdigest()[:32]

    return client_key


def _returned(starts: list[dt.datetime], start: dt.datetime, now: dt.datetime) -> bool | None:
    """Whether `starts` (sorted) holds a time within 30 days after `start`; None while the
    30 days are not over and none has come yet."""
    i = bisect.bisect_right(starts, start)
    if i < len(starts) and starts[i] <= start + RETURN_WINDOW:
        return True
    return False if start + RETURN_WINDOW <= now else None


def _session_facts(client_key, now: dt.datetime) -> tuple[list[SessionFact], list[KeywordFact]]:
    bookings = list(
        Booking.objects.filter(status=Booking.Status.COMPLETED)
        .order_by("start")
        .values_list(
            "id",
            "client_id",
            "counselor_id",
            "start",
            "topic",
            "mode",
            "duration_minutes",
            "allowance_claim__organisation_id",
        )
    )
    feedback = {
        row[0]: row[1:]
        for row in Feedback.objects.filter(booking__status=Booking.Status.COMPLETED).values_list(
            "booking_id", "pre_distress", "post_distress", "comment"
        )
    }
    referrals: dict[int, bool] = {}
    for booking_id, status in Referral.objects.values_list("booking_id", "status"):
        referrals[booking_id] = referrals.get(booking_id, False) or (
            status == Referral.Status.ACCEPTED
        )
    by_client: dict[int, list] = defaultdict(list)
    by_pair: dict[tuple, list] = defaultdict(list)
    for _id, client_id, counselor_id, start, *_rest in bookings:
        by_client[client_id].append(start)
        by_pair[(client_id, counselor_id)].append(start)

    facts, keywords = [], set()
    for booking_id, client_id, counselor_id, start, topic, mode, duration, sponsor in bookings:
        key = client_key(client_id)
        when = coarse_time(start)
        given = feedback.get(booking_id)
        facts.append(
            SessionFact(
                client_key=key,
                counselor_id=counselor_id,
                organisation_id=sponsor,
                **when,
                topic=topic[:120],
                mode=mode,
                duration_minutes=duration,
                feedback_given=given is not None,
                pre_distress=given[0] if given else None,
                post_distress=given[1] if given else None,
                returned_any_30d=_returned(by_client[client_id], start, now),
                returned_same_30d=_returned(by_pair[(client_id, counselor_id)], start, now),
                referral_made=booking_id in referrals,
                referral_accepted=referrals.get(booking_id, False),
            )
        )
        if given and given[2]:
            for language, word in comment_keywords(given[2]):
                keywords.add((key, when["week"], language, word))
    return facts, [
        KeywordFact(client_key=key, week=week, language=language, word=word)
        for key, week, language, word in sorted(keywords)
    ]


def _request_facts(client_key) -> list[RequestFact]:
    rows = MatchRequest.objects.filter(
        when=MatchRequest.When.NOW, status__in=list(REQUEST_OUTCOMES)
    ).values_list("client_id", "created_at", "topic", "status", "matched_at")
    facts = []
    for client_id, created_at, topic, status, matched_at in rows.iterator():
        matched = status == MatchRequest.Status.MATCHED and matched_at is not None
        facts.append(
            RequestFact(
                client_key=client_key(client_id),
                **coarse_time(created_at),
                topic=topic[:120],
                outcome=REQUEST_OUTCOMES[status],
                wait_seconds=max(0, int((matched_at - created_at).total_seconds()))
                if matched
                else None,
            )
        )
    return facts


def _offer_facts() -> list[OfferFact]:
    counts: dict[tuple, int] = defaultdict(int)
    rows = Offer.objects.values_list("created_at", "counselor__created_at")
    for created_at, joined_at in rows.iterator():
        counts[(coarse_time(created_at)["week"], created_at - joined_at < NEW_COUNSELOR)] += 1
    return [
        OfferFact(week=week, new_counselor=new, offers=offers)
        for (week, new), offers in sorted(counts.items())
    ]


def insights_materialise(*, now: dt.datetime | None = None) -> InsightsRun | None:
    """Rebuild every fact table from the live rows, atomically. Returns the run, or None when
    another worker holds the run (it is building the same thing). Takes no ids: it reads
    everything, and a repeat gives the same facts (idempotent)."""
    now = now or timezone.now()
    InsightsRun.objects.get_or_create(pk=1)
    with transaction.atomic():
        run = InsightsRun.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if run is None:
            return None
        # A fresh salt per run, never stored: the keys link facts within this run only.
        client_key = _pseudonymiser(secrets.token_bytes(32))
        sessions, keywords = _session_facts(client_key, now)
        requests = _request_facts(client_key)
        offers = _offer_facts()
        for model in (SessionFact, RequestFact, KeywordFact, OfferFact):
            model.objects.all().delete()
        SessionFact.objects.bulk_create(sessions, batch_size=2000)
        RequestFact.objects.bulk_create(requests, batch_size=2000)
        KeywordFact.objects.bulk_create(keywords, batch_size=2000)
        OfferFact.objects.bulk_create(offers)
        run.built_at = now
        run.session_facts = len(sessions)
        run.request_facts = len(requests)
        run.save(update_fields=["built_at", "session_facts", "request_facts"])
        return run


@transaction.atomic
def duty_sample_record(*, now: dt.datetime | None = None) -> DutySample:
    """Count who is on talk-now duty now, and how many of them joined in the last 30 days.
    One sample a minute: a second call in the same minute returns the first."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    on_duty = Presence.objects.filter(on_duty_q(now))
    sample, _created = DutySample.objects.get_or_create(
        taken_at=minute,
        defaults={
            "on_duty": on_duty.count(),
            "on_duty_new": on_duty.filter(counselor__created_at__gt=now - NEW_COUNSELOR).count(),
        },
    )
    return sample
