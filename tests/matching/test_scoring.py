"""`matching.scoring.score`: pure tests, no database."""

import dataclasses
import math

import pytest

from matching.scoring import (
    CounselorFacts,
    RequestFacts,
    Score,
    Weights,
    bayesian_rating,
    hours_apart,
    score,
    score_matrix,
)

W = Weights()


def req(**kw):
    base = {
        "topic": "anxiety",
        "related_topics": frozenset({"stress", "sleep"}),
        "mode": "text",
        "language": "zh",
    }
    base.update(kw)
    return RequestFacts(**base)


def coun(**kw):
    base = {
        "id": 1,
        "specialties": frozenset({"grief"}),
        "modes": frozenset({"text", "video"}),
        "languages": frozenset({"zh", "en"}),
        "utc_offset_hours": 8,
        "rating_sum": 0,
        "review_count": 0,
        "offers_last_7_days": 5,
    }
    base.update(kw)
    return CounselorFacts(**base)


def s(r, c, mean_offers=5.0, weights=W):
    return score(r, c, weights, mean_offers=mean_offers)


# --- hard constraints ------------------------------------------------------------


def test_mode_mismatch_is_ineligible():
    out = s(req(mode="voice"), coun())
    assert out.value == -math.inf and not out.eligible


def test_language_mismatch_is_ineligible():
    out = s(req(language="yue"), coun())
    assert out.value == -math.inf and not out.eligible


def test_eligible_scores_are_positive_and_bounded():
    top = coun(
        specialties=frozenset({"anxiety"}),
        rating_sum=5 * 1000,
        review_count=1000,
        offers_last_7_days=0,
    )
    best = s(req(client_utc_offset_hours=8, past_counselor_ratings={1: 5}), top)
    ceiling = W.base + W.specialty_exact + W.time_zone + W.rating + W.continuity + W.exposure
    assert 0 < best.value <= ceiling + 1e-9
    worst = s(
        req(client_utc_offset_hours=-4),
        coun(rating_sum=1 * 1000, review_count=1000, offers_last_7_days=99),
    )
    assert worst.value >= W.base > 0


# --- specialty -------------------------------------------------------------------


def test_exact_beats_related_beats_none():
    exact = s(req(), coun(specialties=frozenset({"anxiety"})))
    related = s(req(), coun(specialties=frozenset({"stress"})))
    none = s(req(), coun(specialties=frozenset({"grief"})))
    assert exact.value > related.value > none.value
    assert "specialty: anxiety" in exact.reasons
    assert "related specialty" in related.reasons
    assert not any("specialty" in r for r in none.reasons)


# --- language / mode reasons -----------------------------------------------------------


def test_reasons_name_language_and_mode():
    out = s(req(mode="video", language="en"), coun())
    assert "speaks en" in out.reasons and "offers video" in out.reasons


# --- time zone ---------------------------------------------------------------------


def test_time_zone_only_for_scheduled_sessions():
    near = s(req(client_utc_offset_hours=8), coun())
    far = s(req(client_utc_offset_hours=-4), coun())
    now_near = s(req(), coun(utc_offset_hours=8))
    now_far = s(req(), coun(utc_offset_hours=-4))
    assert near.value > far.value
    assert now_near.value == now_far.value
    assert "close time zone" in near.reasons


def test_time_zone_distance_wraps_around_the_clock():
    assert hours_apart(11, -11) == 2
    assert hours_apart(8, 8) == 0
    assert (
        s(req(client_utc_offset_hours=11), coun(utc_offset_hours=-11)).value
        > s(req(client_utc_offset_hours=11), coun(utc_offset_hours=0)).value
    )


# --- rating -------------------------------------------------------------------------------


def test_bayesian_prior_for_new_counselors():
    assert bayesian_rating(0, 0, W) == pytest.approx(4.0)
    assert bayesian_rating(5, 1, W) == pytest.approx((5 * 4 + 5) / 6)
    # one 1-star review does not sink a new counselor below the prior by much
    assert bayesian_rating(1, 1, W) == pytest.approx(3.5)


def test_rating_is_monotone():
    values = [
        s(req(), coun(rating_sum=r * 20, review_count=20)).value for r in (1, 2, 3, 4, 4.5, 5)
    ]
    assert values == sorted(values) and len(set(values)) == len(values)


def test_many_good_reviews_beat_one_perfect_review():
    many = s(req(), coun(rating_sum=4.8 * 200, review_count=200))
    one = s(req(), coun(rating_sum=5, review_count=1))
    assert many.value > one.value
    assert "rated 4.8 (Bayesian)" in many.reasons


# --- continuity -----------------------------------------------------------------------------


def test_well_rated_past_counselor_scores_higher():
    plain = s(req(), coun())
    safe = s(req(past_counselor_ratings={1: 4.5}), coun())
    assert safe.value == pytest.approx(plain.value + W.continuity)
    assert safe.reasons[0] == "your past counselor"


def test_poorly_rated_past_counselor_gets_no_boost():
    assert s(req(past_counselor_ratings={1: 3}), coun()).value == s(req(), coun()).value


def test_someone_new_excludes_past_counselors():
    out = s(req(past_counselor_ratings={1: 5}, wants_someone_new=True), coun())
    assert not out.eligible
    other = s(req(past_counselor_ratings={2: 5}, wants_someone_new=True), coun(id=1))
    assert other.eligible


# --- fair exposure -------------------------------------------------------------------------


def test_fewer_offers_get_a_bounded_boost():
    values = [s(req(), coun(offers_last_7_days=o), mean_offers=10).value for o in (30, 10, 5, 0)]
    assert values[0] == values[1] < values[2] < values[3]
    boost = values[3] - values[1]
    assert 0 < boost <= W.exposure
    assert "fewer offers this week" in s(req(), coun(offers_last_7_days=0), mean_offers=10).reasons


def test_no_boost_when_nobody_had_offers():
    assert (
        s(req(), coun(offers_last_7_days=0), mean_offers=0).value
        == s(req(), coun(offers_last_7_days=0), mean_offers=5).value - W.exposure * 5 / 6
    )


# --- reasons & weights ---------------------------------------------------------------------------


def test_reasons_are_top_contributors_in_order():
    out = s(
        req(client_utc_offset_hours=8, past_counselor_ratings={1: 5}),
        coun(specialties=frozenset({"anxiety"}), offers_last_7_days=0),
    )
    assert out.reasons[: W.max_reasons] == [
        "specialty: anxiety",
        "your past counselor",
        "rated 4.0 (Bayesian)",
    ]
    assert out.reasons[W.max_reasons :] == ["speaks zh", "offers text"]


def test_weights_change_the_score():
    heavy = Weights(specialty_exact=5.0)
    c = coun(specialties=frozenset({"anxiety"}))
    assert s(req(), c, weights=heavy).value - s(req(), c).value == pytest.approx(4.0)


def test_weights_from_settings(settings):
    settings.MATCHING_WEIGHTS = {"rating": 0.0, "continuity": 2.0}
    w = Weights.from_settings()
    assert (
        w.rating == 0.0 and w.continuity == 2.0 and w.specialty_exact == Weights().specialty_exact
    )
    settings.MATCHING_WEIGHTS = {"age": 1.0}
    with pytest.raises(ValueError):
        Weights.from_settings()


def test_score_matrix_matches_score():
    rs = [req(), req(mode="voice"), req(language="en", topic="stress")]
    cs = [coun(id=1), coun(id=2, specialties=frozenset({"stress"}), offers_last_7_days=0)]
    m = score_matrix(rs, cs, W)
    mean = 2.5
    for i, r in enumerate(rs):
        for j, c in enumerate(cs):
            assert m[i, j] == score(r, c, W, mean_offers=mean).value


# --- no protected attributes ------------------------------------------------------------------

PROTECTED = {
    "age",
    "birth",
    "birthday",
    "date_of_birth",
    "dob",
    "gender",
    "sex",
    "race",
    "ethnicity",
    "religion",
    "nationality",
    "orientation",
    "sexual_orientation",
    "disability",
    "health",
    "pregnancy",
    "marital_status",
    "caste",
    "political",
}


@pytest.mark.parametrize("cls", [RequestFacts, CounselorFacts, Score])
def test_no_protected_attributes(cls):
    for f in dataclasses.fields(cls):
        words = set(f.name.lower().split("_")) | {f.name.lower()}
        assert not (words & PROTECTED), f"{cls.__name__}.{f.name} looks like a protected attribute"


def test_note_fit_ranks_between_its_weight_and_nothing():
    from matching.semantic import CharNgramFit

    fits = CharNgramFit().fit(
        "I keep having panic attacks at night",
        {
            1: "Panic, phobias and anxiety; CBT for panic attacks.",
            2: "Grief and bereavement support.",
            3: "",
        },
    )
    assert fits[1] > fits.get(2, 0.0) and 3 not in fits
    assert 0 < fits[1] <= 1
