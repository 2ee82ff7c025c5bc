"""Reads for matching: who may see which request or offer, and the plain facts scoring needs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone, translation

from accounts.models import User
from core.encryption import decrypt_text
from counselors.models import CounselorProfile, Specialty
from listening.models import Feedback
from matching.explain import reasons_display, topic_name
from matching.models import MatchRequest, Offer, Presence
from matching.scoring import CounselorFacts, RequestFacts


def match_request_get_for_client(*, user: User, request_id: int) -> MatchRequest:
    """The client's own request; DoesNotExist (404) for anyone else's."""
    return MatchRequest.objects.select_related("booking").get(pk=request_id, client=user)


def offers_for_counselor(*, user: User) -> QuerySet[Offer]:
    return Offer.objects.filter(counselor_id=user.pk).select_related("request")


def offer_get_for_counselor(*, user: User, offer_id: int) -> Offer:
    return offers_for_counselor(user=user).get(pk=offer_id)


def presence_of(*, counselor_id: int, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    presence = Presence.objects.filter(pk=counselor_id).first()
    ttl = dt.timedelta(seconds=settings.MATCHING_PRESENCE_TTL_SECONDS)
    on_duty = bool(
        presence and presence.online and presence.last_seen_at and presence.last_seen_at > now - ttl
    )
    return {
        "online": on_duty,
        "last_seen_at": presence.last_seen_at if presence else None,
        "expires_at": presence.last_seen_at + ttl if on_duty else None,
        "missed_in_a_row": presence.missed_in_a_row if presence else 0,
    }


def on_duty_q(now: dt.datetime) -> Q:
    """Presence rows of counselors on talk-now duty who can be offered work."""
    ttl = dt.timedelta(seconds=settings.MATCHING_PRESENCE_TTL_SECONDS)
    return Q(
        online=True,
        last_seen_at__gt=now - ttl,
        counselor__verification=CounselorProfile.Verification.VERIFIED,
        counselor__is_active=True,
        counselor__user__is_active=True,
    )


def utc_offset_hours(zone: str, at: dt.datetime) -> float:
    try:
        offset = at.astimezone(ZoneInfo(zone or "UTC")).utcoffset()
    except (KeyError, ValueError):
        return 0.0
    return offset.total_seconds() / 3600 if offset is not None else 0.0


def related_topics_of(topics: set[str]) -> dict[str, frozenset]:
    related: dict[str, set] = defaultdict(set)
    for slug, other in Specialty.related.through.objects.filter(
        from_specialty__slug__in=topics
    ).values_list("from_specialty__slug", "to_specialty__slug"):
        related[slug].add(other)
    return {t: frozenset(related[t]) for t in topics}


def past_ratings_of(client_ids: set[int]) -> dict[int, dict[int, int]]:
    """client id -> {counselor id: best rating the client gave them}."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    rows = (
        Feedback.objects.filter(booking__client_id__in=client_ids)
        .values("booking__client_id", "booking__counselor_id")
        .annotate(best=Max("rating"))
    )
    for row in rows:
        out[row["booking__client_id"]][row["booking__counselor_id"]] = row["best"]
    return out


def request_facts(
    requests: list[MatchRequest], *, at: dt.datetime | None = None
) -> list[RequestFacts]:
    """Scoring facts for each request. Only what the client asked for, their past ratings and
    (for scheduled sessions) their zone's offset: no protected attributes."""
    related = related_topics_of({r.topic for r in requests})
    past = past_ratings_of({r.client_id for r in requests})
    out = []
    for r in requests:
        offset = None
        if r.when == MatchRequest.When.SCHEDULED:
            offset = utc_offset_hours(r.client.timezone, r.earliest or at or timezone.now())
        out.append(
            RequestFacts(
                topic=r.topic,
                related_topics=related.get(r.topic, frozenset()),
                mode=r.mode,
                language=r.language,
                duration=r.duration_minutes,
                client_utc_offset_hours=offset,
                past_counselor_ratings=past.get(r.client_id, {}),
                wants_someone_new=r.wants_someone_new,
            )
        )
    return out


def counselor_facts(counselor_ids: list[int], *, now: dt.datetime) -> dict[int, CounselorFacts]:
    """Scoring facts for these counselors, loaded as plain values in three queries."""
    if not counselor_ids:
        return {}
    specialties: dict[int, set] = defaultdict(set)
    for cid, slug in CounselorProfile.specialties.through.objects.filter(
        counselorprofile_id__in=counselor_ids
    ).values_list("counselorprofile_id", "specialty__slug"):
        specialties[cid].add(slug)
    recent = dict(
        Offer.objects.filter(
            counselor_id__in=counselor_ids, created_at__gte=now - dt.timedelta(days=7)
        )
        .values_list("counselor_id")
        .annotate(n=Count("id"))
        .values_list("counselor_id", "n")
    )
    facts = {}
    for cid, modes, languages, zone, rating, reviews in (
        CounselorProfile.objects.filter(pk__in=counselor_ids)
        .order_by()
        .values_list("pk", "modes", "languages", "user__timezone", "rating", "review_count")
    ):
        facts[cid] = CounselorFacts(
            id=cid,
            specialties=frozenset(specialties[cid]),
            modes=frozenset(modes),
            languages=frozenset(languages),
            utc_offset_hours=utc_offset_hours(zone, now),
            rating_sum=float(rating or 0) * reviews,
            review_count=reviews,
            offers_last_7_days=recent.get(cid, 0),
        )
    return facts


def counselor_documents(counselor_ids: list[int]) -> dict[int, str]:
    """What a note is compared with: each counselor's bio and specialty names (zh and en)."""
    names: dict[int, list[str]] = defaultdict(list)
    for cid, en, zh in CounselorProfile.specialties.through.objects.filter(
        counselorprofile_id__in=counselor_ids
    ).values_list("counselorprofile_id", "specialty__name_en", "specialty__name_zh"):
        names[cid] += [en, zh]
    return {
        cid: " ".join([bio or "", *names[cid]])
        for cid, bio in CounselorProfile.objects.filter(pk__in=counselor_ids).values_list(
            "pk", "bio"
        )
    }


def match_request_note(request: MatchRequest) -> str:
    """The client's note on a request, decrypted (empty if none)."""
    return decrypt_text(bytes(request.note_ciphertext)) if request.note_ciphertext else ""


def offer_frame(offer, *, language: str | None = None) -> dict:
    """What the counselor sees of an offer: what the client asked for, never who they are.
    `*_name` and `reasons_display` are in `language` (default: the active one)."""
    r = offer.request
    with translation.override(language or translation.get_language()):
        names = {"topic_name": topic_name(r.topic), "mode_name": str(r.get_mode_display())}
        shown = reasons_display(offer.reasons)
    return {
        "id": offer.pk,
        "status": offer.status,
        "request": {
            "id": r.pk,
            "topic": r.topic,
            "mode": r.mode,
            "language": r.language,
            "duration_minutes": r.duration_minutes,
            "note": match_request_note(r),
            "high_risk": r.risk == "high",
            **names,
        },
        "reasons": offer.reasons,
        "reasons_display": shown,
        "score": round(offer.score, 3),
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
        "booking": r.booking_id if offer.status == "accepted" else None,
    }
