"""Talk-now matching and scheduled suggestions.

The life of a talk-now request: `pending` -> (a round offers it to the best free counselor)
`offered` -> `matched` (accepted: a booking starting now) or back to `pending` (declined, timed
out), until `settings.MATCHING_NO_MATCH_SECONDS` after it was made, when a request still not
matched becomes `no_match` with suggestions. A scheduled request gets ranked `suggestions` and
becomes `suggested`. The client can cancel an open request.

A round (`matching_round`) is a batch: it locks every waiting request and every free on-duty
counselor with `SELECT ... FOR UPDATE SKIP LOCKED` (so two workers never work on the same rows),
scores all pairs and offers by maximum-weight assignment, not first come first served. Partial
unique indexes on `Offer` make "one pending offer per request / per counselor" a database fact.
Every push happens after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notice_send
from core.encryption import encrypt_text, rows_reencrypt
from core.exceptions import Conflict
from core.realtime import duty_push, duty_push_on_commit
from core.sessions import SESSION_LENGTHS, SessionLanguage, SessionMode
from counselors.models import CounselorProfile, Specialty
from ethics.detector import HIGH, LOW, crisis_detect
from ethics.models import CrisisAlert
from ethics.services import (
    crisis_hotlines_for,
    crisis_signal_record,
    risk_text_record,
    user_region,
)
from intake.services import intake_current_for, intake_require
from listening.selectors import counselor_days, counselor_rules
from listening.services import booking_start_now
from matching import tasks
from matching.assignment import assign
from matching.models import MatchRequest, Offer, Presence, Surge, SurgeCall, SurgeEvent
from matching.scoring import Weights, mean_offers_of, score, score_rows
from matching.selectors import (
    counselor_documents,
    counselor_facts,
    match_request_note,
    offer_frame,
    on_duty_q,
    queue_priority,
    request_facts,
    surge_banner,
    surge_regions_known,
    surge_regions_live,
)
from matching.semantic import note_fit

logger = logging.getLogger(__name__)

# A round ranks high-risk requests above every other (they are served first when counselors are
# scarce) and, among equals, older ones first: row bonuses added to every eligible pair.
HIGH_RISK_PRIORITY = 10.0
# A request from a region under a live surge: above every ordinary request whatever the scores
# (a pair's score is at most about 3.5), below high risk.
SURGE_PRIORITY = 5.0
WAITING_PRIORITY = 0.5  # at the no-match deadline; linear in the time waited


def _enqueue(task, *args, eta: dt.datetime | None = None) -> None:
    """Send a task after commit, best effort: the rows are the outbox, and the beat sweep
    re-drives whatever a broker outage kept from being sent, so the answer to the client stands."""
    try:
        task.apply_async(args, eta=eta)
    except Exception:
        logger.exception(
            "could not enqueue %s%s; the matching sweep will pick it up", task.name, args
        )


def _seconds(name: str) -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, name))


# --- Requests -------------------------------------------------------------------------------


def _risk_of(*, client: User, note_risk: str) -> str:
    """The request's risk for triage: the note's, raised to high by a high-risk intake."""
    intake = intake_current_for(client)
    return HIGH if note_risk == HIGH or (intake is not None and intake.risk == HIGH) else note_risk


@transaction.atomic
def match_request_create(
    *,
    client: User,
    topic: str,
    mode: str,
    language: str,
    duration_minutes: int,
    when: str = "now",
    earliest: dt.datetime | None = None,
    latest: dt.datetime | None = None,
    note: str = "",
    wants_someone_new: bool = False,
) -> MatchRequest:
    """A client asks for a counselor, now or within a window. A high-risk note raises a crisis
    alert in this same transaction (the row is the outbox) and puts the request first in line."""
    if client.role != User.Role.CLIENT:
        raise ValidationError({"non_field_errors": [_("Only clients can ask for a counselor.")]})
    intake_require(client)
    errors: dict[str, list[str]] = {}
    if not Specialty.objects.filter(slug=topic).exists():
        errors["topic"] = [_("Unknown topic: %(topic)s.") % {"topic": topic}]
    if mode not in SessionMode.values:
        errors["mode"] = [
            _("Mode must be one of %(modes)s.") % {"modes": ", ".join(SessionMode.values)}
        ]
    if duration_minutes not in SESSION_LENGTHS:
        errors["duration_minutes"] = [_("Sessions are 15 or 30 minutes.")]
    now = timezone.now()
    if when == MatchRequest.When.SCHEDULED:
        if earliest is None or latest is None or earliest >= latest:
            errors["when"] = [_("A window needs earliest before latest.")]
        elif latest <= now:
            errors["when"] = [_("The window is in the past.")]
        elif latest - earliest > dt.timedelta(days=14):
            errors["when"] = [_("A window can span at most 14 days.")]
    elif when != MatchRequest.When.NOW:
        errors["when"] = [_('Use "now" or {"earliest", "latest"}.')]
    if errors:
        raise ValidationError(errors)

    if (
        when == MatchRequest.When.NOW
        and MatchRequest.objects.filter(
            client=client, when=MatchRequest.When.NOW, status__in=MatchRequest.OPEN
        ).exists()
    ):
        raise Conflict(_("You already have a talk-now request waiting."), code="request_open")

    detection = crisis_detect(note)
    risk = _risk_of(client=client, note_risk=detection.risk)
    request = MatchRequest(
        client=client,
        topic=topic,
        mode=mode,
        language=language,
        duration_minutes=duration_minutes,
        when=when,
        earliest=earliest if when == MatchRequest.When.SCHEDULED else None,
        latest=latest if when == MatchRequest.When.SCHEDULED else None,
        note_ciphertext=encrypt_text(note) if note else b"",
        wants_someone_new=wants_someone_new,
        risk=risk,
        region=user_region(client),
        created_at=now,
        deadline_at=now + _seconds("MATCHING_NO_MATCH_SECONDS"),
        hotlines=crisis_hotlines_for(user=client) if risk in (HIGH, LOW) else [],
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # a second tab's request won the race (match_one_open_per_client)
        raise Conflict(
            _("You already have a talk-now request waiting."), code="request_open"
        ) from None
    if detection.risk == HIGH:
        # The alert goes out whatever happens to the request.
        crisis_signal_record(
            client=client, source=CrisisAlert.Source.MATCH_NOTE, reasons=list(detection.reasons)
        )
    risk_text_record(
        client=client,
        source=CrisisAlert.Source.MATCH_NOTE,
        detection=detection,
        match_request_id=request.pk,
    )

    if when == MatchRequest.When.NOW:
        transaction.on_commit(lambda: _enqueue(tasks.match_request, request.pk))
        transaction.on_commit(
            lambda: _enqueue(tasks.match_request_deadline, request.pk, eta=request.deadline_at)
        )
    else:
        transaction.on_commit(lambda: _enqueue(tasks.match_request_suggest, request.pk))
    return request


@transaction.atomic
def match_request_cancel(*, client: User, request_id: int) -> MatchRequest:
    request = MatchRequest.objects.select_for_update().get(pk=request_id, client=client)
    if request.status not in MatchRequest.OPEN:
        raise Conflict(
            _("This request is already %(status)s.") % {"status": request.status},
            code="request_closed",
        )
    now = timezone.now()
    withdrawn = list(request.offers.select_for_update().filter(status=Offer.Status.PENDING))
    for offer in withdrawn:
        offer.status, offer.responded_at = Offer.Status.WITHDRAWN, now
        offer.save(update_fields=["status", "responded_at"])
        duty_push_on_commit(offer.counselor_id, {"type": "offer.withdrawn", "id": offer.pk})
    request.status, request.closed_at = MatchRequest.Status.CANCELLED, now
    request.save(update_fields=["status", "closed_at"])
    return request


def _note_fits(requests: list[MatchRequest], counselor_ids: list[int]) -> list[dict[int, float]]:
    """Per request, {counselor id: fit of the note to their bio}; empty when off or no note."""
    fitter = note_fit()
    if fitter is None:  # off: no notes decrypted on every round
        return [{} for _ in requests]
    notes = [match_request_note(r) for r in requests]
    if not any(notes):
        return [{} for _ in requests]
    documents = counselor_documents(counselor_ids)
    return [fitter.fit(note, documents) if note else {} for note in notes]


def _suggestions(
    *, request: MatchRequest, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> list[dict]:
    """The best-fitting listed counselors with a free slot in [start, end), best first, each with
    their earliest slot: what to book instead of (or for) the request."""
    limit = settings.MATCHING_SUGGESTIONS
    listed = CounselorProfile.objects.filter(
        verification=CounselorProfile.Verification.VERIFIED,
        is_active=True,
        user__is_active=True,
        modes__contains=[request.mode],
        languages__contains=[request.language],
    ).exclude(pk__in=request.offers.filter(status=Offer.Status.DECLINED).values("counselor_id"))
    names = dict(listed.values_list("pk", "display_name"))
    ids = list(names)
    facts = counselor_facts(ids, now=now)
    [rfacts] = request_facts([request], at=start)
    weights = Weights.from_settings()
    mean = mean_offers_of(facts.values())
    [fits] = _note_fits([request], ids)
    scored = sorted(
        (
            (score(rfacts, f, weights, mean_offers=mean, note_fit=fits.get(cid, 0.0)), cid)
            for cid, f in facts.items()
        ),
        key=lambda sc: -sc[0].value,
    )
    scored = [(s, cid) for s, cid in scored if s.eligible]
    out: list[dict] = []
    duration = dt.timedelta(minutes=request.duration_minutes)
    # Walk down the ranking in chunks, so a few hundred listed counselors cost a few queries.
    for lo in range(0, len(scored), 4 * limit):
        chunk = scored[lo : lo + 4 * limit]
        rules = counselor_rules(
            profiles=CounselorProfile.objects.filter(pk__in=[cid for _s, cid in chunk])
        )
        days = counselor_days(profiles=rules, start=start, end=end, now=now)
        for s, cid in chunk:
            slots = days[cid].free_slots(start, end, duration, limit=1)
            if slots:
                out.append(
                    {
                        "counselor": cid,
                        "display_name": names.get(cid) or "",
                        "start": slots[0][0].isoformat(),
                        "end": slots[0][1].isoformat(),
                        "score": round(s.value, 3),
                        "reasons": s.reasons,
                    }
                )
                if len(out) >= limit:
                    return out
    return out


@transaction.atomic
def match_request_suggest(*, request_id: int) -> bool:
    """Rank counselor/slot suggestions for a scheduled request (idempotent)."""
    request = (
        MatchRequest.objects.select_for_update(skip_locked=True)
        .filter(pk=request_id, when=MatchRequest.When.SCHEDULED, status=MatchRequest.Status.PENDING)
        .first()
    )
    if request is None:
        return False
    now = timezone.now()
    request.suggestions = _suggestions(
        request=request, start=max(request.earliest, now), end=request.latest, now=now
    )
    request.status, request.closed_at = MatchRequest.Status.SUGGESTED, now
    request.save(update_fields=["suggestions", "status", "closed_at"])
    return True


def _close_no_match(request: MatchRequest, now: dt.datetime) -> None:
    """Call holding the request's row lock, with no pending offer left on it."""
    request.suggestions = _suggestions(
        request=request, start=now, end=now + dt.timedelta(days=7), now=now
    )
    if request.risk in (HIGH, LOW) and not request.hotlines:
        request.hotlines = crisis_hotlines_for(user=request.client)
    request.status, request.closed_at = MatchRequest.Status.NO_MATCH, now
    request.save(update_fields=["suggestions", "hotlines", "status", "closed_at"])


@transaction.atomic
def match_request_expire(*, request_id: int) -> bool:
    """At the deadline, a request nobody has taken becomes no_match (idempotent). One still
    offered keeps its running offer; the offer's end closes it."""
    now = timezone.now()
    request = (
        MatchRequest.objects.select_for_update(skip_locked=True)
        .filter(pk=request_id, status=MatchRequest.Status.PENDING, deadline_at__lte=now)
        .first()
    )
    if request is None:
        return False
    _close_no_match(request, now)
    return True


# --- Presence -----------------------------------------------------------------------------


def _require_counselor(user: User) -> None:
    if user.role != User.Role.COUNSELOR:
        raise PermissionDenied(_("Only counselors go on talk-now duty."))


@transaction.atomic
def presence_set(*, counselor: User, online: bool) -> Presence:
    """Go on or off talk-now duty. Going on (or staying on) is also a heartbeat."""
    _require_counselor(counselor)
    profile = CounselorProfile.objects.select_related("user").get(pk=counselor.pk)
    if online and not profile.is_listed:
        raise Conflict(_("Only verified, listed counselors can go on duty."), code="not_listed")
    presence, _created = Presence.objects.select_for_update().get_or_create(counselor=profile)
    now = timezone.now()
    was_on = presence.online
    presence.online = online
    presence.last_seen_at = now if online else presence.last_seen_at
    if online and not was_on:
        presence.missed_in_a_row = 0
    presence.save()
    if not online:
        _withdraw_pending_offers(counselor_id=profile.pk, now=now)
    else:
        matching_round_schedule()
    return presence


def presence_end(*, counselor_id: int) -> None:
    """Take a counselor off duty without their asking (suspension): pending offers go back.
    Call inside the transaction that makes the change."""
    now = timezone.now()
    Presence.objects.filter(pk=counselor_id).update(online=False)
    _withdraw_pending_offers(counselor_id=counselor_id, now=now)
    duty_push_on_commit(counselor_id, {"type": "presence", "online": False, "reason": "suspended"})


def presence_heartbeat(*, counselor_id: int) -> bool:
    """Renew an on-duty counselor's presence; False if they are off duty (nothing renewed)."""
    renewed = Presence.objects.filter(pk=counselor_id, online=True).update(
        last_seen_at=timezone.now()
    )
    return bool(renewed)


def _withdraw_pending_offers(*, counselor_id: int, now: dt.datetime) -> None:
    """Going off duty hands the counselor's pending offer back. Call inside a transaction."""
    for offer in Offer.objects.select_for_update().filter(
        counselor_id=counselor_id, status=Offer.Status.PENDING
    ):
        offer.status, offer.responded_at = Offer.Status.WITHDRAWN, now
        offer.save(update_fields=["status", "responded_at"])
        _back_to_waiting(offer.request_id, now)
        duty_push_on_commit(offer.counselor_id, {"type": "offer.withdrawn", "id": offer.pk})


def matching_round_schedule() -> None:
    """A round soon: after commit (at once outside a transaction), best effort."""
    transaction.on_commit(lambda: _enqueue(tasks.matching_round))


def _back_to_waiting(request_id: int, now: dt.datetime) -> None:
    """The request's offer ended without a match: wait again, or end as no_match past the
    deadline. Call inside a transaction."""
    request = MatchRequest.objects.select_for_update().get(pk=request_id)
    if request.status != MatchRequest.Status.OFFERED:
        return
    if now >= request.deadline_at:
        _close_no_match(request, now)
        return
    request.status = MatchRequest.Status.PENDING
    request.save(update_fields=["status"])
    matching_round_schedule()


# --- Rounds -------------------------------------------------------------------------------


def _days_from_now(counselor_ids: list[int], now: dt.datetime, longest: int) -> dict:
    """Each counselor's bookings around now and local-day counts: who is in a session or about
    to start one, and who has reached their daily cap."""
    rules = counselor_rules(profiles=CounselorProfile.objects.filter(pk__in=counselor_ids))
    end = now + dt.timedelta(minutes=longest + settings.MATCHING_BUSY_MARGIN_MINUTES)
    return counselor_days(profiles=rules, start=now, end=end, now=now)


@transaction.atomic
def matching_round(*, now: dt.datetime | None = None) -> list[int]:
    """Offer waiting talk-now requests to free on-duty counselors, as one maximum-weight
    assignment. Returns the ids of the offers made. Safe to run from several workers at once."""
    now = now or timezone.now()
    surge_regions = surge_regions_live(now)
    requests = list(
        MatchRequest.objects.select_for_update(skip_locked=True)
        .filter(when=MatchRequest.When.NOW, status=MatchRequest.Status.PENDING, deadline_at__gt=now)
        .select_related("client")
        .order_by(queue_priority(now, surge_regions), "created_at")[: settings.MATCHING_ROUND_LIMIT]
    )
    if not requests:
        return []
    presences = list(
        Presence.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(on_duty_q(now))
        .exclude(counselor__offers__status=Offer.Status.PENDING)
        .values_list("pk", flat=True)
    )
    if not presences:
        return []
    days = _days_from_now(presences, now, max(r.duration_minutes for r in requests))
    facts = counselor_facts(presences, now=now)
    crisis_trained = set(
        CounselorProfile.objects.filter(pk__in=presences, crisis_trained=True).values_list(
            "pk", flat=True
        )
    )
    counselors = [facts[cid] for cid in presences if cid in facts]
    rfacts = request_facts(requests, at=now)
    offered = set(
        Offer.objects.filter(request__in=requests).values_list("request_id", "counselor_id")
    )
    weights = Weights.from_settings()
    mean = mean_offers_of(counselors)
    deadline = _seconds("MATCHING_NO_MATCH_SECONDS").total_seconds()
    fits = _note_fits(requests, [c.id for c in counselors])

    # Every eligible pair's score at once (the same values as `score`, see score_rows), then
    # the round's own rules on top: availability, pairs already tried, crisis-trained first.
    scores = score_rows(rfacts, counselors, weights, mean_offers=mean, note_fits=fits)
    free_for: dict[int, set[int]] = {}
    for c in counselors:
        day = days[c.id]
        local_day = day.local_date(now)
        under_cap = day.day_counts[local_day] < day.daily_cap
        free_for[c.id] = {
            m
            for m in SESSION_LENGTHS
            if under_cap
            and not day.clashes(
                now, now + dt.timedelta(minutes=m + settings.MATCHING_BUSY_MARGIN_MINUTES)
            )
        }
    free_by_length = {
        m: np.array([m in free_for[c.id] for c in counselors], dtype=bool) for m in SESSION_LENGTHS
    }
    trained = np.array([c.id in crisis_trained for c in counselors], dtype=bool)
    column = {c.id: j for j, c in enumerate(counselors)}
    row = {r.pk: i for i, r in enumerate(requests)}
    for request_id, counselor_id in offered:
        if request_id in row and counselor_id in column:
            scores[row[request_id], column[counselor_id]] = -np.inf
    for i, r in enumerate(requests):
        usable = free_by_length.get(r.duration_minutes, np.zeros(len(counselors), dtype=bool))
        if r.risk == HIGH and (usable & trained).any():
            usable = usable & trained  # a high-risk request goes to crisis-trained counselors first
        bonus = (
            (HIGH_RISK_PRIORITY if r.risk == HIGH else 0.0)
            + (SURGE_PRIORITY if r.region and r.region in surge_regions else 0.0)
            + WAITING_PRIORITY * min(1.0, (now - r.created_at).total_seconds() / deadline)
        )
        scores[i] = np.where(usable & np.isfinite(scores[i]), scores[i] + bonus, -np.inf)
    pairs = assign(scores)
    if not pairs:
        return []

    expires = now + _seconds("MATCHING_OFFER_SECONDS")
    made = []
    for i, j in pairs:
        r, c = requests[i], counselors[j]
        explained = score(rfacts[i], c, weights, mean_offers=mean, note_fit=fits[i].get(c.id, 0.0))
        reasons = explained.reasons + (
            ["crisis-trained, for a high-risk request"]
            if r.risk == HIGH and c.id in crisis_trained
            else []
        )
        made.append(
            Offer(
                request=r,
                counselor_id=c.id,
                score=explained.value,
                reasons=reasons,
                created_at=now,
                expires_at=expires,
            )
        )
        r.status = MatchRequest.Status.OFFERED
    Offer.objects.bulk_create(made)
    # One status for all: a plain UPDATE, not bulk_update's CASE per row (0.14 s at 100 offers).
    MatchRequest.objects.filter(pk__in=[o.request.pk for o in made]).update(
        status=MatchRequest.Status.OFFERED
    )

    languages = dict(
        User.objects.filter(pk__in=[o.counselor_id for o in made]).values_list("pk", "language")
    )

    def announce():
        for offer in made:
            frame = offer_frame(offer, language=languages.get(offer.counselor_id))
            duty_push(offer.counselor_id, {"type": "offer.new", "offer": frame})
            _enqueue(tasks.expire_offer, offer.pk, eta=offer.expires_at)

    transaction.on_commit(announce)
    return [o.pk for o in made]


# One round at a time. Every new request, accept, decline, timeout and session end queues a
# round; run side by side they only fight (over the GIL, the database and each other's row
# locks: a round holds the free counselors' presence rows, which heartbeats and accepts
# update) and each finds little the others left. So a round first takes a transaction-level
# advisory lock (released by its commit, or by the connection's end if the worker dies); a
# round that finds it taken leaves a flag and returns, and the running round, once committed,
# sees the flag and runs once more for whatever arrived meanwhile.
ROUND_LOCK_KEY = 0x6D61746368  # pg_try_advisory_xact_lock key ("match")
ROUND_AGAIN_KEY = "matching:round:again"
ROUND_AGAIN_SECONDS = 60  # the flag outlives any round; the sweep covers a lost one anyway
ROUND_RERUNS = 20  # at most this many re-runs per task: the sweep and later tasks do the rest


@transaction.atomic
def _round_if_free(now: dt.datetime | None) -> tuple[bool, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROUND_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return False, []
    return True, matching_round(now=now)


def matching_rounds(*, now: dt.datetime | None = None) -> list[int]:
    """Run a round unless one is running; then again while requests arrived during it (the
    flag). What the tasks and the sweep call; returns the ids of the offers made here."""
    made: list[int] = []
    for _rerun in range(ROUND_RERUNS):
        ran, offers = _round_if_free(now)
        if not ran:
            cache.set(ROUND_AGAIN_KEY, 1, ROUND_AGAIN_SECONDS)
            # The running round may have committed (and looked for the flag) just now.
            ran, offers = _round_if_free(now)
            if not ran:
                return made  # it is still running: it will see the flag
        made += offers
        if not cache.delete(ROUND_AGAIN_KEY):
            return made
    return made


# --- Offers -------------------------------------------------------------------------------


def _lock_own_pending_offer(counselor: User, offer_id: int) -> Offer:
    _require_counselor(counselor)
    offer = (
        Offer.objects.select_for_update()
        .select_related("request")
        .get(pk=offer_id, counselor_id=counselor.pk)
    )
    if offer.status != Offer.Status.PENDING:
        raise Conflict(
            _("This offer is already %(status)s.") % {"status": offer.status},
            code=f"offer_{offer.status}",
        )
    if offer.expires_at <= timezone.now():
        raise Conflict(_("This offer has timed out."), code="offer_expired")
    return offer


def offer_accept(*, counselor: User, offer_id: int) -> Offer:
    """Accept: the booking starts now, through the booking service (so the no-overlap
    constraints and the daily cap hold). If the booking cannot be made, the offer is withdrawn,
    the request goes back in line, and the Conflict is raised."""
    offer, conflict = _offer_accept(counselor=counselor, offer_id=offer_id)
    if conflict is not None:
        raise conflict
    return offer


@transaction.atomic
def _offer_accept(*, counselor: User, offer_id: int) -> tuple[Offer, Conflict | None]:
    offer = _lock_own_pending_offer(counselor, offer_id)
    request = (
        MatchRequest.objects.select_for_update().select_related("client").get(pk=offer.request_id)
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            booking = booking_start_now(
                client=request.client,
                counselor_id=offer.counselor_id,
                duration_minutes=request.duration_minutes,
                mode=request.mode,
                topic=request.topic,
                note=match_request_note(request),
            )
    except (Conflict, ValidationError) as exc:
        offer.status, offer.responded_at = Offer.Status.WITHDRAWN, now
        offer.save(update_fields=["status", "responded_at"])
        _back_to_waiting(request.pk, now)
        duty_push_on_commit(offer.counselor_id, {"type": "offer.withdrawn", "id": offer.pk})
        message = exc.message if isinstance(exc, Conflict) else "; ".join(exc.messages)
        return offer, Conflict(message, code=getattr(exc, "code", None) or "cannot_book")
    offer.status, offer.responded_at = Offer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "responded_at"])
    request.status, request.booking, request.matched_at, request.closed_at = (
        MatchRequest.Status.MATCHED,
        booking,
        now,
        now,
    )
    request.save(update_fields=["status", "booking", "matched_at", "closed_at"])
    offer.request = request
    Presence.objects.filter(pk=offer.counselor_id).update(missed_in_a_row=0, last_seen_at=now)
    duty_push_on_commit(
        offer.counselor_id, {"type": "offer.accepted", "id": offer.pk, "booking": booking.pk}
    )
    return offer, None


@transaction.atomic
def offer_decline(*, counselor: User, offer_id: int) -> Offer:
    offer = _lock_own_pending_offer(counselor, offer_id)
    now = timezone.now()
    offer.status, offer.responded_at = Offer.Status.DECLINED, now
    offer.save(update_fields=["status", "responded_at"])
    Presence.objects.filter(pk=offer.counselor_id).update(missed_in_a_row=0, last_seen_at=now)
    _back_to_waiting(offer.request_id, now)
    return offer


@transaction.atomic
def offer_expire(*, offer_id: int) -> bool:
    """Time out a pending offer whose 45 seconds are up (idempotent: a conditional claim).
    The counselor's third timeout in a row takes them off duty."""
    now = timezone.now()
    offer = (
        Offer.objects.select_for_update(skip_locked=True)
        .filter(pk=offer_id, status=Offer.Status.PENDING, expires_at__lte=now)
        .first()
    )
    if offer is None:
        return False
    offer.status, offer.responded_at = Offer.Status.EXPIRED, now
    offer.save(update_fields=["status", "responded_at"])
    presence = Presence.objects.select_for_update().get(pk=offer.counselor_id)
    presence.missed_in_a_row += 1
    off = presence.online and presence.missed_in_a_row >= settings.MATCHING_TIMEOUTS_OFF_DUTY
    if off:
        presence.online = False
    presence.save(update_fields=["missed_in_a_row", "online", "updated_at"])
    _back_to_waiting(offer.request_id, now)

    def announce():
        duty_push(offer.counselor_id, {"type": "offer.expired", "id": offer.pk})
        if off:
            duty_push(
                offer.counselor_id, {"type": "presence", "online": False, "reason": "missed_offers"}
            )

    transaction.on_commit(announce)
    return True


def matching_sweep(*, now: dt.datetime | None = None) -> dict:
    """The safety net behind the eta tasks: expire overdue offers, close requests past their
    deadline, schedule suggestions a lost task never made, and run a round for the rest."""
    now = now or timezone.now()
    expired = sum(
        offer_expire(offer_id=pk)
        for pk in Offer.objects.filter(
            status=Offer.Status.PENDING, expires_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
    closed = sum(
        match_request_expire(request_id=pk)
        for pk in MatchRequest.objects.filter(
            when=MatchRequest.When.NOW, status=MatchRequest.Status.PENDING, deadline_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
    suggested = sum(
        match_request_suggest(request_id=pk)
        for pk in MatchRequest.objects.filter(
            when=MatchRequest.When.SCHEDULED,
            status=MatchRequest.Status.PENDING,
            created_at__lte=now - dt.timedelta(seconds=30),
        ).values_list("pk", flat=True)[:100]
    )
    offered = len(matching_rounds(now=now))
    return {"expired": expired, "closed": closed, "suggested": suggested, "offered": offered}


# --- Account deletion: this app's eraser ------------------------------------------------------


def user_match_requests_erase(*, user: User) -> None:
    """Matching's part of deleting an account: open requests are cancelled and every request's
    note (health information) is erased; a counselor goes off duty, their offers withdrawn.
    Call inside the deletion's transaction."""
    open_requests = MatchRequest.objects.filter(client=user, status__in=MatchRequest.OPEN)
    for request_id in open_requests.values_list("pk", flat=True):
        match_request_cancel(client=user, request_id=request_id)
    MatchRequest.objects.filter(client=user).update(note_ciphertext=b"")
    if user.role == User.Role.COUNSELOR:
        presence_end(counselor_id=user.pk)


# --- Surges: the talent reservoir ---------------------------------------------------------------

SURGE_MAX_DAYS = 30  # a longer crisis is declared again, so that someone looks at it


def _require_staff(user: User) -> None:
    if not user.is_staff_member:
        raise PermissionDenied(_("Only staff can declare or change a surge."))


def _banner_errors(errors: dict, name: str, value: str | None) -> None:
    if value is None or not value.strip():
        errors[name] = [_("A banner text is required in both languages.")]
    elif len(value.strip()) > 300:
        errors[name] = [_("At most 300 characters.")]


def _end_errors(errors: dict, *, starts_at: dt.datetime, ends_at: dt.datetime | None, now) -> None:
    if ends_at is None:
        errors["ends_at"] = [_("Say when the surge ends.")]
    elif ends_at <= starts_at:
        errors["ends_at"] = [_("The end must come after the start.")]
    elif ends_at <= now:
        errors["ends_at"] = [_("The end is in the past.")]
    elif ends_at - starts_at > dt.timedelta(days=SURGE_MAX_DAYS):
        errors["ends_at"] = [
            _("A surge lasts at most %(days)s days; declare it again if it goes on.")
            % {"days": SURGE_MAX_DAYS}
        ]


def _surge_snapshot(surge: Surge) -> dict:
    return {
        "region": surge.region,
        "languages": list(surge.languages),
        "specialty": surge.specialty.slug if surge.specialty_id else None,
        "banner_en": surge.banner_en,
        "banner_zh": surge.banner_zh,
        "starts_at": surge.starts_at.isoformat(),
        "ends_at": surge.ends_at.isoformat(),
    }


def _audit(surge: Surge, actor: User, action: str, changes: dict, now: dt.datetime) -> None:
    SurgeEvent.objects.create(
        surge=surge, actor=actor, action=action, changes=changes, created_at=now
    )


@transaction.atomic
def surge_declare(
    *,
    actor: User,
    region: str,
    languages: list[str],
    banner_en: str,
    banner_zh: str,
    ends_at: dt.datetime | None,
    starts_at: dt.datetime | None = None,
    specialty: str | None = None,
) -> Surge:
    """Staff declare a surge for a region (one the resource directory has hotlines for) and
    session languages, from `starts_at` (default now) to `ends_at`, with a banner in both
    languages and optionally a specialty (slug). In the same transaction: the audit row and
    one call-up (the outbox) for every listed reserve-pool counselor who speaks one of the
    languages and, if a specialty is set, has it; a task sends them after commit."""
    _require_staff(actor)
    now = timezone.now()
    starts_at = starts_at or now
    errors: dict[str, list[str]] = {}
    region = (region or "").strip().upper()
    known = surge_regions_known()
    if region not in known:
        errors["region"] = [
            _("Unknown region %(region)s; use one of %(known)s.")
            % {"region": region or "-", "known": ", ".join(known)}
        ]
    languages = sorted(set(languages or []))
    if not languages:
        errors["languages"] = [_("Choose at least one language.")]
    elif unknown := [code for code in languages if code not in SessionLanguage.values]:
        errors["languages"] = [
            _("Unknown language %(code)s; use one of %(known)s.")
            % {"code": ", ".join(unknown), "known": ", ".join(SessionLanguage.values)}
        ]
    specialty_row = None
    if specialty:
        specialty_row = Specialty.objects.filter(slug=specialty).first()
        if specialty_row is None:
            errors["specialty"] = [_("Unknown specialty: %(slug)s") % {"slug": specialty}]
    _banner_errors(errors, "banner_en", banner_en)
    _banner_errors(errors, "banner_zh", banner_zh)
    _end_errors(errors, starts_at=starts_at, ends_at=ends_at, now=now)
    if errors:
        raise ValidationError(errors)

    surge = Surge.objects.create(
        region=region,
        languages=languages,
        specialty=specialty_row,
        banner_en=banner_en.strip(),
        banner_zh=banner_zh.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        declared_by=actor,
        created_at=now,
    )
    _audit(surge, actor, SurgeEvent.Action.DECLARE, _surge_snapshot(surge), now)
    reserve = CounselorProfile.objects.filter(
        reserve_pool=True,
        verification=CounselorProfile.Verification.VERIFIED,
        is_active=True,
        user__is_active=True,
        languages__overlap=languages,
    )
    if specialty_row is not None:
        reserve = reserve.filter(specialties=specialty_row)
    SurgeCall.objects.bulk_create(
        SurgeCall(surge=surge, counselor_id=pk, created_at=now)
        for pk in sorted(set(reserve.values_list("pk", flat=True)))
    )
    transaction.on_commit(lambda: _enqueue(tasks.surge_calls_send, surge.pk))
    return surge


def _lock_open_surge(surge_id: int, now: dt.datetime) -> Surge:
    surge = Surge.objects.select_for_update().get(pk=surge_id)
    if surge.ended_at is not None or surge.ends_at <= now:
        raise Conflict(_("This surge has already ended."), code="surge_ended")
    return surge


@transaction.atomic
def surge_update(
    *,
    actor: User,
    surge_id: int,
    banner_en: str | None = None,
    banner_zh: str | None = None,
    ends_at: dt.datetime | None = None,
) -> Surge:
    """Change a surge's banners or end (the fields given); audited with old and new values.
    An ended surge cannot change (409 `surge_ended`)."""
    _require_staff(actor)
    now = timezone.now()
    surge = _lock_open_surge(surge_id, now)
    errors: dict[str, list[str]] = {}
    given = {
        name: value
        for name, value in (("banner_en", banner_en), ("banner_zh", banner_zh))
        if value is not None
    }
    for name, value in given.items():
        _banner_errors(errors, name, value)
    if ends_at is not None:
        _end_errors(errors, starts_at=surge.starts_at, ends_at=ends_at, now=now)
    if errors:
        raise ValidationError(errors)
    changes: dict[str, list] = {}
    for name, value in given.items():
        if getattr(surge, name) != value.strip():
            changes[name] = [getattr(surge, name), value.strip()]
            setattr(surge, name, value.strip())
    if ends_at is not None and ends_at != surge.ends_at:
        changes["ends_at"] = [surge.ends_at.isoformat(), ends_at.isoformat()]
        surge.ends_at = ends_at
    if changes:
        surge.save(update_fields=[name for name in changes])
        _audit(surge, actor, SurgeEvent.Action.UPDATE, changes, now)
    return surge


@transaction.atomic
def surge_end(*, actor: User, surge_id: int) -> Surge:
    """End a surge now: the normal queue order is back from the next round and the banner goes.
    Audited. Call-ups not sent yet stay unsent (the sender skips ended surges)."""
    _require_staff(actor)
    now = timezone.now()
    surge = _lock_open_surge(surge_id, now)
    surge.ended_at, surge.ended_by = now, actor
    surge.save(update_fields=["ended_at", "ended_by"])
    _audit(surge, actor, SurgeEvent.Action.END, {"ended_at": now.isoformat()}, now)
    return surge


def _surge_frame(surge: Surge, language: str) -> dict:
    return {
        "id": surge.pk,
        "region": surge.region,
        "languages": list(surge.languages),
        "specialty": surge.specialty.slug if surge.specialty_id else None,
        "banner": surge_banner(surge, language),
        "starts_at": surge.starts_at.isoformat(),
        "ends_at": surge.ends_at.isoformat(),
    }


def _surge_call_email(call: SurgeCall, user: User) -> None:
    surge = call.surge
    site = settings.PIANKE_SITE_URL
    dashboard = site + reverse("listening:counselor-dashboard")
    availability = site + reverse("counselors:counselor-availability")
    until = timezone.localtime(surge.ends_at, timezone=_zone_of(user))
    with translation.override(user.language):
        send_mail(
            subject=_("Pianke needs listeners: a surge in %(region)s") % {"region": surge.region},
            message=_(
                "%(banner)s\n\n"
                "Staff have declared a surge for %(region)s (languages: %(languages)s) until "
                "%(until)s. You are in the reserve pool: if you can, go on talk-now duty "
                "(%(dashboard)s) or open availability windows (%(availability)s).\n\n"
                "You can leave the reserve pool on your dashboard at any time."
            )
            % {
                "banner": surge_banner(surge, user.language),
                "region": surge.region,
                "languages": ", ".join(surge.languages),
                "until": until.strftime("%Y-%m-%d %H:%M"),
                "dashboard": dashboard,
                "availability": availability,
            },
            from_email=None,
            recipient_list=[user.email],
        )


def _zone_of(user: User):
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


@transaction.atomic
def surge_call_send(*, call_id: int) -> bool:
    """Send one call-up (e-mail, an in-page notice, a push to the counselor's duty sockets) and
    mark it sent, once: the row is claimed with skip_locked, so a second sender skips it, and a
    sent row is never taken again. The e-mail goes before the mark: a crash in between repeats
    it rather than losing it. Calls of a surge that has ended are not sent."""
    now = timezone.now()
    call = (
        SurgeCall.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("surge", "surge__specialty", "counselor__user")
        .filter(
            pk=call_id,
            status=SurgeCall.Status.PENDING,
            surge__ended_at__isnull=True,
            surge__ends_at__gt=now,
        )
        .first()
    )
    if call is None:
        return False
    user = call.counselor.user
    if user.email:
        _surge_call_email(call, user)
    notice_send(
        user=user,
        kind="surge_call",
        params={"region": call.surge.region, "surge_id": call.surge_id},
        url=reverse("listening:counselor-dashboard") + "#surge-calls",
    )
    duty_push_on_commit(
        call.counselor_id, {"type": "surge.call", "surge": _surge_frame(call.surge, user.language)}
    )
    call.status, call.sent_at = SurgeCall.Status.SENT, now
    call.save(update_fields=["status", "sent_at"])
    return True


def surge_calls_send(*, surge_id: int | None = None) -> int:
    """Send the pending call-ups of one surge (or of every surge not over): each in its own
    transaction, so one failure does not hold back the rest. Returns how many were sent."""
    now = timezone.now()
    pending = SurgeCall.objects.filter(
        status=SurgeCall.Status.PENDING, surge__ended_at__isnull=True, surge__ends_at__gt=now
    )
    if surge_id is not None:
        pending = pending.filter(surge_id=surge_id)
    sent = 0
    for pk in pending.order_by("created_at", "pk").values_list("pk", flat=True)[:500]:
        try:
            sent += surge_call_send(call_id=pk)
        except Exception:  # the row stays pending; the sweep tries again
            logger.exception("could not send surge call %s", pk)
    return sent


@transaction.atomic
def reserve_pool_set(*, counselor: User, on: bool) -> CounselorProfile:
    """A counselor opts into (or out of) the reserve pool that surges call up."""
    _require_counselor(counselor)
    profile = CounselorProfile.objects.select_for_update(no_key=True).get(pk=counselor.pk)
    profile.reserve_pool = on
    profile.save(update_fields=["reserve_pool"])
    return profile


def match_request_notes_reencrypt(*, batch: int = 200) -> int:
    """Re-encrypt the talk-now notes under the newest key (key rotation, beside
    session_content_reencrypt). Returns how many notes."""
    return rows_reencrypt(
        MatchRequest.objects.exclude(note_ciphertext=b""), ["note_ciphertext"], batch=batch
    )
