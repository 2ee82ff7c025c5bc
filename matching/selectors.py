"""Reads for matching: who may see which request or offer, and the plain facts scoring needs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone, translation

from accounts.models import User
from core.encryption import decrypt_text
from counselors.models import CounselorProfile, PreferredCounselor, Specialty
from ethics.models import Resource
from ethics.services import hotlines_for_region
from listening.models import Booking, Feedback
from listening.selectors import counselor_days, counselor_ids_met_by, counselor_rules
from matching.estimate import estimate_wait, percentile
from matching.explain import reasons_display, topic_name
from matching.models import MatchRequest, Offer, Presence, Surge, SurgeCall, SurgeEvent
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


def preferred_counselors_of(client_ids: set[int]) -> dict[int, frozenset]:
    """client id -> ids of the counselors the client marked as preferred."""
    out: dict[int, set] = defaultdict(set)
    for client_id, counselor_id in PreferredCounselor.objects.filter(
        client_id__in=client_ids
    ).values_list("client_id", "counselor_id"):
        out[client_id].add(counselor_id)
    return {cid: frozenset(ids) for cid, ids in out.items()}


def request_facts(
    requests: list[MatchRequest], *, at: dt.datetime | None = None
) -> list[RequestFacts]:
    """Scoring facts for each request. Only what the client asked for, their past ratings and
    (for scheduled sessions) their zone's offset: no protected attributes."""
    related = related_topics_of({r.topic for r in requests})
    past = past_ratings_of({r.client_id for r in requests})
    preferred = preferred_counselors_of({r.client_id for r in requests})
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
                preferred_counselors=preferred.get(r.client_id, frozenset()),
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


def offer_frame(offer, *, language: str | None = None, topics: dict | None = None) -> dict:
    """What the counselor sees of an offer: what the client asked for, never who they are.
    `*_name` and `reasons_display` are in `language` (default: the active one). `topics`
    (slug: Specialty, from offer_frames) spares a query per offer in a list."""
    r = offer.request
    with translation.override(language or translation.get_language()):
        names = {"topic_name": topic_name(r.topic, topics), "mode_name": str(r.get_mode_display())}
        shown = reasons_display(offer.reasons, topics)
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


def offer_frames(offers, *, language: str | None = None) -> list[dict]:
    """offer_frame of each offer, the topics' names read in one query for them all."""
    offers = list(offers)
    slugs = {o.request.topic for o in offers} | {
        reason.removeprefix("specialty: ")
        for o in offers
        for reason in o.reasons
        if reason.startswith("specialty: ")
    }
    topics = {s.slug: s for s in Specialty.objects.filter(slug__in=slugs)} if slugs else {}
    return [offer_frame(o, language=language, topics=topics) for o in offers]


# --- The queue order, the wait estimate, continuity -----------------------------------------


def surge_live_q(now: dt.datetime) -> Q:
    """Surges in force now: not ended, started, not yet past their end."""
    return Q(ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now)


def surge_regions_live(now: dt.datetime) -> set[str]:
    return set(Surge.objects.filter(surge_live_q(now)).values_list("region", flat=True))


def queue_priority(now: dt.datetime, regions: set[str] | None = None) -> Case:
    """A round's order key (smaller first): high risk, then requests from a region under a live
    surge, then the rest; ties go to the oldest (order by this, then created_at)."""
    regions = surge_regions_live(now) if regions is None else regions
    whens = [When(risk=MatchRequest.Risk.HIGH, then=Value(0))]
    if regions:
        whens.append(When(region__in=sorted(regions), then=Value(1)))
    return Case(*whens, default=Value(2), output_field=IntegerField())


def waiting_requests(now: dt.datetime) -> QuerySet[MatchRequest]:
    """Talk-now requests a round would consider now."""
    return MatchRequest.objects.filter(
        when=MatchRequest.When.NOW, status=MatchRequest.Status.PENDING, deadline_at__gt=now
    )


def _ahead_of(request: MatchRequest, now: dt.datetime) -> QuerySet[MatchRequest]:
    """Waiting requests that come before `request` in a round's order."""
    regions = surge_regions_live(now)
    queue = waiting_requests(now).exclude(pk=request.pk).annotate(prio=queue_priority(now, regions))
    [mine] = (
        MatchRequest.objects.filter(pk=request.pk)
        .annotate(prio=queue_priority(now, regions))
        .values_list("prio", flat=True)
    )
    return queue.filter(
        Q(prio__lt=mine)
        | Q(prio=mine, created_at__lt=request.created_at)
        | Q(prio=mine, created_at=request.created_at, pk__lt=request.pk)
    )


def _recent_match_seconds(now: dt.datetime) -> list[float]:
    since = now - dt.timedelta(hours=settings.MATCHING_ESTIMATE_HISTORY_HOURS)
    waits = (
        MatchRequest.objects.filter(
            when=MatchRequest.When.NOW, status=MatchRequest.Status.MATCHED, matched_at__gte=since
        )
        .annotate(wait=F("matched_at") - F("created_at"))
        .order_by("-matched_at")
        .values_list("wait", flat=True)[:500]
    )
    return [w.total_seconds() for w in waits if w is not None]


def wait_estimate(*, request: MatchRequest, now: dt.datetime | None = None) -> dict | None:
    """`{position, ahead, counselors_on_duty, low_seconds, high_seconds}` for an open talk-now
    request (None otherwise). `position` is 1-based in a round's order over every waiting
    request; the estimate counts only the requests ahead that compete for the same counselors
    (same language and mode) and the on-duty counselors who could take this one (mode and
    language, not one who already declined it). See matching/estimate.py for the method."""
    now = now or timezone.now()
    if request.when != MatchRequest.When.NOW or request.status not in MatchRequest.OPEN:
        return None
    if request.status == MatchRequest.Status.OFFERED:
        position, ahead = 1, 0  # a counselor is looking at it now
    else:
        before = _ahead_of(request, now)
        position = before.count() + 1
        ahead = before.filter(language=request.language, mode=request.mode).count()
    capable = list(
        Presence.objects.filter(
            on_duty_q(now),
            counselor__modes__contains=[request.mode],
            counselor__languages__contains=[request.language],
        )
        .exclude(
            counselor_id__in=Offer.objects.filter(request=request)
            .exclude(status=Offer.Status.PENDING)
            .values("counselor_id")
        )
        .values_list("pk", flat=True)
    )
    busy_until = now + dt.timedelta(
        minutes=request.duration_minutes + settings.MATCHING_BUSY_MARGIN_MINUTES
    )
    busy = set(
        Booking.objects.filter(
            counselor_id__in=capable,
            status__in=Booking.HOLDS_TIME,
            start__lt=busy_until,
            end__gt=now,
        ).values_list("counselor_id", flat=True)
    ) | set(
        Offer.objects.filter(counselor_id__in=capable, status=Offer.Status.PENDING)
        .exclude(request=request)
        .values_list("counselor_id", flat=True)
    )
    estimate = estimate_wait(
        ahead=ahead,
        on_duty=len(capable),
        free=len(set(capable) - busy),
        session_seconds=request.duration_minutes * 60,
        match_seconds=_recent_match_seconds(now),
        open_low_seconds=settings.MATCHING_NO_MATCH_SECONDS,
    )
    return {
        "position": position,
        "ahead": ahead,
        "counselors_on_duty": len(capable),
        "low_seconds": estimate.low_seconds,
        "high_seconds": estimate.high_seconds,
        "exceeds_alternatives_threshold": estimate.exceeds(
            settings.MATCHING_ALTERNATIVES_ABOVE_SECONDS
        ),
    }


def earliest_slots(*, request: MatchRequest, now: dt.datetime | None = None) -> list[dict]:
    """The earliest bookable slots in the next 7 days for the request's mode, language and
    length, counselors with the topic first, one slot per counselor. Cached for a minute per
    request: the waiting page polls every 2 seconds."""
    now = now or timezone.now()

    def compute() -> list[dict]:
        limit = settings.MATCHING_SUGGESTIONS
        listed = (
            CounselorProfile.objects.filter(
                verification=CounselorProfile.Verification.VERIFIED,
                is_active=True,
                user__is_active=True,
                modes__contains=[request.mode],
                languages__contains=[request.language],
            )
            .annotate(
                topic_first=Case(
                    When(specialties__slug=request.topic, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("topic_first", "pk")
        )
        ranked: dict[int, tuple[int, str]] = {}
        for pk, first, name in listed.values_list("pk", "topic_first", "display_name")[:60]:
            ranked.setdefault(pk, (first, name))  # the join repeats a row per specialty
        end = now + dt.timedelta(days=7)
        rules = counselor_rules(profiles=CounselorProfile.objects.filter(pk__in=list(ranked)))
        days = counselor_days(profiles=rules, start=now, end=end, now=now)
        duration = dt.timedelta(minutes=request.duration_minutes)
        found = []
        for pk, day in days.items():
            slots = day.free_slots(now, end, duration, limit=1)
            if slots:
                first, name = ranked[pk]
                found.append((first, slots[0][0], slots[0][1], pk, name))
        found.sort()
        return [
            {
                "counselor": pk,
                "display_name": name or "",
                "start": start.isoformat(),
                "end": stop.isoformat(),
                "topic": first == 0,
            }
            for first, start, stop, pk, name in found[:limit]
        ]

    key = f"matching:earliest-slots:{request.pk}:{request.created_at.timestamp()}"
    return cache.get_or_set(key, compute, 60)


def continuity_on_duty(
    *,
    client: User,
    now: dt.datetime | None = None,
    language: str | None = None,
    mode: str | None = None,
) -> list[dict]:
    """Counselors the client has met (listening's "my counselors") or marked as preferred who
    are on talk-now duty now (and, if given, offer the language and mode), preferred first:
    `[{counselor, display_name, preferred}]`. Only the client's own history is read."""
    now = now or timezone.now()
    met = counselor_ids_met_by(client=client, now=now)
    preferred = set(
        PreferredCounselor.objects.filter(client=client).values_list("counselor_id", flat=True)
    )
    if not met | preferred:
        return []
    on_duty = Presence.objects.filter(on_duty_q(now), pk__in=met | preferred)
    if language:
        on_duty = on_duty.filter(counselor__languages__contains=[language])
    if mode:
        on_duty = on_duty.filter(counselor__modes__contains=[mode])
    rows = on_duty.values_list("pk", "counselor__display_name", "counselor__user__username")
    out = [
        {"counselor": pk, "display_name": name or username, "preferred": pk in preferred}
        for pk, name, username in rows
    ]
    out.sort(key=lambda row: (not row["preferred"], row["display_name"]))
    return out


# --- Surges ---------------------------------------------------------------------------------

K_ANONYMITY = 5  # a figure about fewer distinct clients than this is never shown


def surge_regions_known() -> list[str]:
    """The regions a surge can be declared for: those the resource directory has hotlines for
    (so the banner can show crisis lines), the worldwide entries aside."""
    return sorted(
        set(
            Resource.objects.filter(kind=Resource.Kind.HOTLINE, is_active=True)
            .exclude(region="global")
            .values_list("region", flat=True)
        )
    )


def surge_banner(surge: Surge, language: str | None = None) -> str:
    language = language or translation.get_language() or "zh-hans"
    return surge.banner_zh if language.startswith("zh") else surge.banner_en


def surges_for_banner(*, now: dt.datetime | None = None) -> list[dict]:
    """Live surges as the public banner shows them, in the active language, with crisis lines
    for the surge's region."""
    now = now or timezone.now()
    language = translation.get_language() or "zh-hans"
    session_language = "zh" if language.startswith("zh") else "en"
    return [
        {
            "id": s.pk,
            "region": s.region,
            "banner": surge_banner(s, language),
            "hotlines": hotlines_for_region(region=s.region, language=session_language),
        }
        for s in Surge.objects.filter(surge_live_q(now)).order_by("starts_at", "pk")
    ]


def surges_for_staff() -> QuerySet[Surge]:
    return Surge.objects.select_related("specialty", "declared_by", "ended_by").order_by(
        "-starts_at", "-pk"
    )


def surge_get_for_staff(*, surge_id: int) -> Surge:
    return surges_for_staff().get(pk=surge_id)


def surge_state(surge: Surge, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if surge.ended_at is not None or surge.ends_at <= now:
        return "ended"
    return "live" if surge.starts_at <= now else "scheduled"


def k_anonymous(value, distinct_clients: int):
    """`value`, or None when it describes fewer than K_ANONYMITY distinct clients."""
    return value if distinct_clients >= K_ANONYMITY else None


def surge_figures(surge: Surge, *, now: dt.datetime | None = None) -> dict:
    """Live figures for staff: counselors on duty who speak one of the surge's languages (a
    count of counselors, shown as it is), and, for talk-now requests from the surge's region,
    the queue, the median wait of those matched in the last hour and the requests in the last
    hour, each None ("fewer than 5") when it counts fewer than 5 distinct clients."""
    return surges_figures([surge], now=now)[surge.pk]


def _by_region(requests: QuerySet[MatchRequest]) -> dict[str, tuple[int, int]]:
    """{region: (requests, distinct clients)} in one grouped query."""
    rows = (
        requests.values("region")
        .annotate(n=Count("id"), clients=Count("client_id", distinct=True))
        .order_by()
    )
    return {r["region"]: (r["n"], r["clients"]) for r in rows}


def surges_figures(surges, *, now: dt.datetime | None = None) -> dict[int, dict]:
    """surge_figures of each surge by pk, in four queries however many surges (the staff
    list): the on-duty counselors' languages once, the region figures grouped by region."""
    surges = list(surges)
    if not surges:
        return {}
    now = now or timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    # One language list per on-duty counselor (a Presence row is one counselor).
    on_duty_languages = [
        set(languages or ())
        for languages in Presence.objects.filter(on_duty_q(now)).values_list(
            "counselor__languages", flat=True
        )
    ]
    region = MatchRequest.objects.filter(
        when=MatchRequest.When.NOW, region__in={s.region for s in surges}
    )
    queue = _by_region(region.filter(status__in=MatchRequest.OPEN))
    recent = _by_region(region.filter(created_at__gte=hour_ago))
    waits: dict[str, list[float]] = defaultdict(list)
    matched_clients: dict[str, set[int]] = defaultdict(set)
    matched = region.filter(status=MatchRequest.Status.MATCHED, matched_at__gte=hour_ago)
    for where, client_id, wait in matched.annotate(
        wait=F("matched_at") - F("created_at")
    ).values_list("region", "client_id", "wait"):
        waits[where].append(wait.total_seconds())
        matched_clients[where].add(client_id)
    figures = {}
    for surge in surges:
        wanted = set(surge.languages)
        queue_length, queue_clients = queue.get(surge.region, (0, 0))
        recent_count, recent_clients = recent.get(surge.region, (0, 0))
        surge_waits = waits.get(surge.region, [])
        figures[surge.pk] = {
            "counselors_on_duty": sum(1 for spoken in on_duty_languages if spoken & wanted),
            "queue_length": k_anonymous(queue_length, queue_clients),
            "median_wait_seconds": k_anonymous(
                round(percentile(surge_waits, 0.5)) if surge_waits else None,
                len(matched_clients.get(surge.region, ())),
            ),
            "requests_last_hour": k_anonymous(recent_count, recent_clients),
            "k": K_ANONYMITY,
        }
    return figures


def surge_call_counts(surge: Surge) -> dict:
    counts = dict(
        surge.calls.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {"pending": counts.get("pending", 0), "sent": counts.get("sent", 0)}


def surge_events(surge: Surge) -> QuerySet[SurgeEvent]:
    return surge.events.select_related("actor").order_by("created_at", "pk")


def surges_extras(surges) -> dict[int, dict]:
    """For each surge by pk, what the staff API shows beside its row (figures, call counts,
    events), in a fixed number of queries however many surges: a page of the list is not a
    query per surge per figure."""
    surges = list(surges)
    ids = [s.pk for s in surges]
    figures = surges_figures(surges)
    calls: dict[int, dict] = {pk: {"pending": 0, "sent": 0} for pk in ids}
    for surge_id, status, n in (
        SurgeCall.objects.filter(surge_id__in=ids)
        .values_list("surge_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if status in calls[surge_id]:
            calls[surge_id][status] = n
    events: dict[int, list[SurgeEvent]] = {pk: [] for pk in ids}
    for event in (
        SurgeEvent.objects.filter(surge_id__in=ids)
        .select_related("actor")
        .order_by("created_at", "pk")
    ):
        events[event.surge_id].append(event)
    return {pk: {"figures": figures[pk], "calls": calls[pk], "events": events[pk]} for pk in ids}


def surge_calls_for_counselor(*, user: User, now: dt.datetime | None = None) -> list[SurgeCall]:
    """The counselor's call-ups for surges not over yet, newest first."""
    now = now or timezone.now()
    return list(
        SurgeCall.objects.filter(
            counselor_id=user.pk, surge__ended_at__isnull=True, surge__ends_at__gt=now
        )
        .select_related("surge", "surge__specialty")
        .order_by("-created_at", "-pk")
    )


def reserve_state_for_counselor(*, user: User) -> dict:
    """The dashboard's reserve-pool card: the counselor's opt-in and their call-ups for surges
    not over yet, each with its banner in the counselor's language."""
    in_pool = CounselorProfile.objects.filter(pk=user.pk, reserve_pool=True).exists()
    return {
        "reserve_pool": in_pool,
        "calls": [
            {"call": c, "banner": surge_banner(c.surge, user.language)}
            for c in surge_calls_for_counselor(user=user)
        ],
    }
