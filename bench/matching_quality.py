"""matching_quality: how close the engine's batch assignment gets to the optimum, and how fast.

A seeded synthetic population of 2,000 waiting requests and 500 on-duty counselors is scored
with `matching.scoring.score`; `matching.assignment.assign` and
`scipy.optimize.linear_sum_assignment` (maximize; ineligible pairs replaced by a large negative
and dropped from its result) run on the same score matrix. Reports the total-score ratio
engine / optimum over eligible pairs (goal >= 0.99) and both run times. No database or server.
"""

from __future__ import annotations

import random
import time

import numpy as np

from matching.assignment import assign
from matching.scoring import CounselorFacts, RequestFacts, Weights, mean_offers_of, score

# From counselors/migrations/0002_seed_specialties.py: slug -> related slugs
TAXONOMY = {
    "anxiety": ["stress", "sleep"],
    "stress": ["anxiety", "career", "burnout"],
    "grief": ["loneliness"],
    "career": ["stress", "burnout", "study"],
    "relationships": ["family", "loneliness"],
    "new-parents": ["family", "sleep", "stress"],
    "sleep": ["anxiety", "stress"],
    "self-esteem": ["relationships", "study"],
    "family": ["relationships", "new-parents"],
    "loneliness": ["relationships", "grief"],
    "burnout": ["stress", "career"],
    "study": ["stress", "career", "self-esteem"],
    "low-mood": ["loneliness", "self-esteem", "sleep"],
    "lgbtq": ["relationships", "family", "self-esteem"],
}
TOPIC_WEIGHTS = {
    "anxiety": 14,
    "stress": 14,
    "relationships": 11,
    "low-mood": 10,
    "career": 9,
    "family": 8,
    "sleep": 7,
    "loneliness": 6,
    "study": 6,
    "self-esteem": 5,
    "burnout": 4,
    "grief": 3,
    "new-parents": 2,
    "lgbtq": 1,
}
LANGUAGES = {"zh": 70, "en": 15, "yue": 15}
MODES = {"text": 45, "voice": 25, "video": 15, "async": 15}
OFFSETS = {8: 80, 9: 5, 0: 5, -5: 5, 1: 5}  # mostly China time, some diaspora


def pick(rng: random.Random, table: dict):
    return rng.choices(list(table), weights=list(table.values()))[0]


def population(seed: int = 20240601, n_requests: int = 2000, n_counselors: int = 500):
    rng = random.Random(seed)
    counselors = []
    for cid in range(1, n_counselors + 1):
        specs = set()
        while len(specs) < rng.randint(1, 4):
            specs.add(pick(rng, TOPIC_WEIGHTS))
        langs = {pick(rng, LANGUAGES)}
        if rng.random() < 0.4:
            langs.add(pick(rng, LANGUAGES))
        if "zh" not in langs and rng.random() < 0.6:
            langs.add("zh")
        modes = {"text"} | {m for m in ("voice", "video", "async") if rng.random() < 0.5}
        reviews = 0 if rng.random() < 0.2 else int(rng.expovariate(1 / 40)) + 1
        counselors.append(
            CounselorFacts(
                id=cid,
                specialties=frozenset(specs),
                modes=frozenset(modes),
                languages=frozenset(langs),
                utc_offset_hours=pick(rng, OFFSETS),
                rating_sum=reviews * min(5.0, max(1.0, rng.gauss(4.3, 0.4))),
                review_count=reviews,
                offers_last_7_days=int(rng.expovariate(1 / 12)),
            )
        )
    requests = []
    for _ in range(n_requests):
        topic = pick(rng, TOPIC_WEIGHTS)
        past = {}
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 2)):
                past[rng.randint(1, n_counselors)] = rng.choice([3, 4, 4.5, 5, 5])
        requests.append(
            RequestFacts(
                topic=topic,
                related_topics=frozenset(TAXONOMY[topic]),
                mode=pick(rng, MODES),
                language=pick(rng, LANGUAGES),
                duration=rng.choice([15, 30]),
                client_utc_offset_hours=pick(rng, OFFSETS) if rng.random() < 0.5 else None,
                past_counselor_ratings=past,
                wants_someone_new=bool(past) and rng.random() < 0.2,
            )
        )
    return requests, counselors


def run(seed: int = 20240601, n_requests: int = 2000, n_counselors: int = 500) -> dict:
    from scipy.optimize import linear_sum_assignment

    requests, counselors = population(seed, n_requests, n_counselors)
    weights = Weights()
    mean_offers = mean_offers_of(counselors)
    t0 = time.perf_counter()
    scores = np.array(
        [
            [score(r, c, weights, mean_offers=mean_offers, explain=False).value for c in counselors]
            for r in requests
        ]
    )
    scoring_s = time.perf_counter() - t0
    eligible = np.isfinite(scores)

    t0 = time.perf_counter()
    pairs = assign(scores)
    engine_s = time.perf_counter() - t0
    engine_total = float(sum(scores[r, c] for r, c in pairs))

    t0 = time.perf_counter()
    rows, cols = linear_sum_assignment(np.where(eligible, scores, -1e9), maximize=True)
    scipy_s = time.perf_counter() - t0
    opt_pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if eligible[r, c]]
    opt_total = float(sum(scores[r, c] for r, c in opt_pairs))

    # Naive first-come greedy for context: each request in arrival order takes its best free counselor.
    free = np.ones(n_counselors, dtype=bool)
    greedy_total, greedy_n = 0.0, 0
    for i in range(n_requests):
        row = np.where(free & eligible[i], scores[i], -np.inf)
        j = int(row.argmax())
        if np.isfinite(row[j]):
            free[j] = False
            greedy_total += row[j]
            greedy_n += 1

    ratio = engine_total / opt_total if opt_total else 1.0
    return {
        "seed": seed,
        "requests": n_requests,
        "counselors": n_counselors,
        "eligible_pair_fraction": round(float(eligible.mean()), 3),
        "scoring_seconds": round(scoring_s, 2),
        "engine_seconds": round(engine_s, 3),
        "scipy_seconds": round(scipy_s, 3),
        "engine_total": round(engine_total, 3),
        "optimum_total": round(opt_total, 3),
        "ratio": round(ratio, 5),
        "engine_assigned": len(pairs),
        "optimum_assigned": len(opt_pairs),
        "first_come_greedy_ratio": round(greedy_total / opt_total, 5) if opt_total else 1.0,
        "first_come_greedy_assigned": greedy_n,
        "goal_met": ratio >= 0.99,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
