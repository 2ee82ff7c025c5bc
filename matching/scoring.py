"""Scoring one (request, counselor) pair: a pure function of plain facts and weights.

Hard constraints (the counselor must offer the requested mode and speak the requested language;
a client who asked for someone new is never re-matched with a past counselor) make a pair
ineligible: `Score.value` is `-inf`. Every eligible pair scores at least `weights.base` (> 0), so
any eligible match beats leaving a request waiting.

Soft factors, each a weight times a 0..1 fit:

* specialty: exact topic match (1.0) or a specialty related to the topic in the taxonomy
  (`related_specialty` weight);
* time zone nearness, only for scheduled sessions (client offset known): 1 - hours apart / 12,
  hours measured around the clock;
* rating with a Bayesian prior, (C*m + sum) / (C + n) with m = 4.0, C = 5 reviews, mapped from
  the 1..5 star scale to 0..1, so a new counselor starts at the prior, not at zero;
* continuity ("safe island"): a past counselor the client rated >= 4, or one the client marked
  as preferred (the same weight: a preference is at least as strong a signal as a rating),
  unless they asked for someone new;
* fair exposure: a bounded boost, weight * clamp((mean_offers - offers) / (mean_offers + 1), 0, 1),
  for counselors offered fewer requests than average in the last 7 days;
* optionally, the fit of the client's note to the counselor's bio and specialties (0..1, from
  `matching.semantic`).

The facts carry no protected attributes of the client (or counselor): no age, gender, ethnicity,
religion, nationality, orientation, health or disability data. Topic, language and mode are what
the client asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Weights:
    """Default matching weights; `from_settings()` applies `settings.MATCHING_WEIGHTS` overrides."""

    base: float = 0.1  # every eligible pair
    specialty_exact: float = 1.0
    specialty_related: float = 0.5
    time_zone: float = 0.3  # scheduled sessions only
    rating: float = 0.6
    continuity: float = 0.8
    exposure: float = 0.3
    note_fit: float = 0.4  # the client's note against the bio (matching.semantic), when on
    # Rating prior
    prior_mean: float = 4.0
    prior_reviews: float = 5.0
    continuity_min_rating: float = 4.0
    max_reasons: int = 3

    @classmethod
    def from_settings(cls) -> Weights:
        from django.conf import settings  # lazy: importing this module needs no Django set-up

        overrides = dict(getattr(settings, "MATCHING_WEIGHTS", {}) or {})
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"MATCHING_WEIGHTS: unknown keys {sorted(unknown)}")
        return replace(cls(), **overrides)


@dataclass(frozen=True)
class RequestFacts:
    """What a waiting request asks for. `client_utc_offset_hours` is None for talk-now requests.
    `duration` (minutes, 15 or 30) is carried for the caller; availability is decided elsewhere."""

    topic: str
    related_topics: frozenset = frozenset()
    mode: str = "text"
    language: str = "zh"
    duration: int = 15
    client_utc_offset_hours: float | None = None
    past_counselor_ratings: dict = field(default_factory=dict)  # counselor id -> best rating given
    wants_someone_new: bool = False
    preferred_counselors: frozenset = frozenset()  # counselor ids the client marked preferred


@dataclass(frozen=True)
class CounselorFacts:
    id: int
    specialties: frozenset = frozenset()
    modes: frozenset = frozenset()
    languages: frozenset = frozenset()
    utc_offset_hours: float = 8.0
    rating_sum: float = 0.0
    review_count: int = 0
    offers_last_7_days: int = 0


@dataclass
class Score:
    value: float
    reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.value != -math.inf


INELIGIBLE = -math.inf


def bayesian_rating(rating_sum: float, review_count: int, weights: Weights) -> float:
    c, m = weights.prior_reviews, weights.prior_mean
    return (c * m + rating_sum) / (c + review_count)


def hours_apart(a: float, b: float) -> float:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def score(
    request: RequestFacts,
    counselor: CounselorFacts,
    weights: Weights,
    *,
    mean_offers: float,
    explain: bool = True,
    note_fit: float = 0.0,
) -> Score:
    """The fit of `counselor` for `request`; `Score(-inf, [reason])` if not eligible. `note_fit`
    (0..1) is the optional fit of the client's note to the counselor's bio (matching.semantic)."""
    if request.mode not in counselor.modes:
        return Score(INELIGIBLE, [f"does not offer {request.mode}"] if explain else [])
    if request.language not in counselor.languages:
        return Score(INELIGIBLE, [f"does not speak {request.language}"] if explain else [])
    past = request.past_counselor_ratings.get(counselor.id)
    preferred = counselor.id in request.preferred_counselors
    if (past is not None or preferred) and request.wants_someone_new:
        return Score(INELIGIBLE, ["client asked for someone new"] if explain else [])

    parts: list[tuple[float, str]] = []
    if request.topic in counselor.specialties:
        parts.append((weights.specialty_exact, f"specialty: {request.topic}"))
    elif request.related_topics & counselor.specialties:
        parts.append((weights.specialty_related, "related specialty"))

    if request.client_utc_offset_hours is not None:
        apart = hours_apart(request.client_utc_offset_hours, counselor.utc_offset_hours)
        parts.append(
            (weights.time_zone * (1 - apart / 12), "close time zone" if apart <= 3 else "time zone")
        )

    bayes = bayesian_rating(counselor.rating_sum, counselor.review_count, weights)
    parts.append(
        (weights.rating * min(1.0, max(0.0, (bayes - 1) / 4)), f"rated {bayes:.1f} (Bayesian)")
    )

    if preferred:
        parts.append((weights.continuity, "your preferred counselor"))
    elif past is not None and past >= weights.continuity_min_rating:
        parts.append((weights.continuity, "your past counselor"))

    if note_fit > 0:
        parts.append((weights.note_fit * min(1.0, note_fit), "close to what you wrote"))

    if mean_offers > 0:
        boost = (mean_offers - counselor.offers_last_7_days) / (mean_offers + 1)
        boost = min(1.0, max(0.0, boost))
        if boost > 0:
            parts.append((weights.exposure * boost, "fewer offers this week"))

    value = weights.base + sum(p for p, _ in parts)
    if not explain:
        return Score(value)
    top = [text for p, text in sorted(parts, key=lambda pt: -pt[0]) if p > 0][: weights.max_reasons]
    top += [f"speaks {request.language}", f"offers {request.mode}"]
    return Score(value, top)


def mean_offers_of(counselors: Iterable[CounselorFacts]) -> float:
    counselors = list(counselors)
    return sum(c.offers_last_7_days for c in counselors) / len(counselors) if counselors else 0.0


def score_matrix(
    requests: Sequence[RequestFacts],
    counselors: Sequence[CounselorFacts],
    weights: Weights,
    *,
    mean_offers: float | None = None,
):
    """A (requests x counselors) numpy array of scores, -inf where ineligible (no reasons kept)."""
    import numpy as np

    if mean_offers is None:
        mean_offers = mean_offers_of(counselors)
    out = np.full((len(requests), len(counselors)), -np.inf)
    for i, r in enumerate(requests):
        row = out[i]
        for j, c in enumerate(counselors):
            if r.mode in c.modes and r.language in c.languages:
                row[j] = score(r, c, weights, mean_offers=mean_offers, explain=False).value
    return out


def score_rows(
    requests: Sequence[RequestFacts],
    counselors: Sequence[CounselorFacts],
    weights: Weights,
    *,
    mean_offers: float,
    note_fits: Sequence[dict] | None = None,
):
    """`score(...).value` for every pair at once, as a (requests x counselors) numpy array
    (-inf where ineligible), with the parts added in `score`'s order so that every value is
    bit-for-bit the scalar one. A round scores a few hundred by a few hundred pairs: this is
    numpy over counselors per distinct topic, plus the few pairs a client has history with."""
    import numpy as np

    n, m = len(requests), len(counselors)
    out = np.full((n, m), -np.inf)
    if not n or not m:
        return out
    index = {c.id: j for j, c in enumerate(counselors)}
    # Per counselor: the rating's and the fair-exposure boost's parts (pair-independent).
    bayes = np.array(
        [bayesian_rating(c.rating_sum, c.review_count, weights) for c in counselors], dtype=float
    )
    rating = weights.rating * np.minimum(1.0, np.maximum(0.0, (bayes - 1) / 4))
    exposure = np.zeros(m)
    if mean_offers > 0:
        offers = np.array([c.offers_last_7_days for c in counselors], dtype=float)
        boost = np.minimum(1.0, np.maximum(0.0, (mean_offers - offers) / (mean_offers + 1)))
        exposure = np.where(boost > 0, weights.exposure * boost, 0.0)
    offsets = np.array([c.utc_offset_hours for c in counselors], dtype=float)
    eligible_for: dict[tuple, np.ndarray] = {}
    specialty_for: dict[tuple, np.ndarray] = {}
    for i, r in enumerate(requests):
        key = (r.mode, r.language)
        if key not in eligible_for:
            eligible_for[key] = np.array(
                [r.mode in c.modes and r.language in c.languages for c in counselors]
            )
        topic = (r.topic, r.related_topics)
        if topic not in specialty_for:
            specialty_for[topic] = np.array(
                [
                    weights.specialty_exact
                    if r.topic in c.specialties
                    else weights.specialty_related
                    if r.related_topics & c.specialties
                    else 0.0
                    for c in counselors
                ]
            )
        eligible = eligible_for[key].copy()
        acc = specialty_for[topic].copy()
        if r.client_utc_offset_hours is not None:
            d = np.abs(r.client_utc_offset_hours - offsets) % 24
            acc = acc + weights.time_zone * (1 - np.minimum(d, 24 - d) / 12)
        acc = acc + rating
        continuity = np.zeros(m)
        for cid in r.preferred_counselors:
            if cid in index:
                continuity[index[cid]] = weights.continuity
        for cid, past in r.past_counselor_ratings.items():
            if (
                cid in index
                and cid not in r.preferred_counselors
                and past is not None
                and past >= weights.continuity_min_rating
            ):
                continuity[index[cid]] = weights.continuity
        if r.wants_someone_new:
            for cid in {*r.preferred_counselors, *r.past_counselor_ratings}:
                if cid in index and (
                    cid in r.preferred_counselors or r.past_counselor_ratings[cid] is not None
                ):
                    eligible[index[cid]] = False
        acc = acc + continuity
        fits = note_fits[i] if note_fits is not None else None
        if fits:
            note = np.zeros(m)
            for cid, fit in fits.items():
                if cid in index and fit > 0:
                    note[index[cid]] = weights.note_fit * min(1.0, fit)
            acc = acc + note
        acc = acc + exposure
        out[i] = np.where(eligible, weights.base + acc, -np.inf)
    return out
