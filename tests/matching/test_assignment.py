"""`matching.assignment.assign`: pure tests, no database."""

import itertools
import math

import numpy as np
import pytest

from matching.assignment import assign, total

NEG = -math.inf


def brute_force(w: np.ndarray) -> float:
    """Best total over all matchings (each request to at most one counselor, each counselor once)."""
    n_req, n_coun = w.shape
    best = 0.0
    options = list(range(n_coun)) + [None] * n_req
    for combo in set(itertools.permutations(options, n_req)):
        s = 0.0
        ok = True
        for r, c in enumerate(combo):
            if c is None:
                continue
            if not np.isfinite(w[r, c]):
                ok = False
                break
            s += w[r, c]
        if ok:
            best = max(best, s)
    return best


def check_valid(w, pairs, capacity=None):
    cap = np.ones(w.shape[1], dtype=int) if capacity is None else np.asarray(capacity)
    reqs = [r for r, _ in pairs]
    assert len(reqs) == len(set(reqs)), "a request assigned twice"
    counts = (
        np.bincount([c for _, c in pairs], minlength=w.shape[1]) if pairs else np.zeros(w.shape[1])
    )
    assert (counts <= cap).all(), "capacity exceeded"
    for r, c in pairs:
        assert np.isfinite(w[r, c]), "ineligible pair assigned"


@pytest.mark.parametrize("seed", range(25))
def test_matches_brute_force_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    n_req, n_coun = rng.integers(1, 6), rng.integers(1, 5)
    w = rng.random((n_req, n_coun)).round(2)
    w[rng.random((n_req, n_coun)) < 0.3] = NEG
    pairs = assign(w)
    check_valid(w, pairs)
    assert total(w, pairs) == pytest.approx(brute_force(w))


def test_specialist_goes_to_the_request_that_needs_it():
    # counselor 0: generalist, counselor 1: the only specialist.
    # Request A (first) fits both almost equally, slightly better the specialist; B fits only the specialist.
    w = np.array([[0.90, 0.95], [NEG, 1.00]])
    # First-come greedy: A takes the specialist (0.95), B waits.
    pairs = assign(w)
    assert pairs == [(0, 0), (1, 1)]
    assert total(w, pairs) == pytest.approx(1.90)


def test_more_requests_than_counselors():
    rng = np.random.default_rng(7)
    w = rng.random((40, 10))
    pairs = assign(w)
    check_valid(w, pairs)
    assert len(pairs) == 10


def test_ineligible_pairs_never_assigned_even_if_that_leaves_requests_waiting():
    w = np.array([[NEG, NEG], [0.5, NEG], [np.nan, 0.2]])
    pairs = assign(w)
    assert pairs == [(1, 0), (2, 1)]
    assert assign(np.full((3, 3), NEG)) == []


def test_negative_scores_are_not_worth_a_match():
    assert assign(np.array([[-0.5]])) == []


def test_capacity_respected_and_optimal():
    rng = np.random.default_rng(3)
    w = rng.random((6, 2))
    cap = [2, 1]
    pairs = assign(w, capacity=cap)
    check_valid(w, pairs, cap)
    assert len(pairs) == 3
    # brute force with expanded slot columns
    expanded = w[:, [0, 0, 1]]
    assert total(w, pairs) == pytest.approx(brute_force(expanded))


def test_zero_capacity_takes_counselor_out():
    w = np.array([[1.0, 0.1]])
    assert assign(w, capacity=[0, 1]) == [(0, 1)]


def test_more_slots_than_requests():
    rng = np.random.default_rng(11)
    w = rng.random((3, 4))
    pairs = assign(w, capacity=[2, 2, 2, 2])
    check_valid(w, pairs, [2, 2, 2, 2])
    # every request gets its best counselor when slots are plentiful
    assert pairs == [(r, int(w[r].argmax())) for r in range(3)]


def test_empty_inputs():
    assert assign(np.zeros((0, 3))) == []
    assert assign(np.zeros((3, 0))) == []


def test_rejects_bad_shapes():
    with pytest.raises(ValueError):
        assign(np.zeros(3))
    with pytest.raises(ValueError):
        assign(np.zeros((2, 2)), capacity=[1])
