"""The talk-now wait estimate: a pure function of plain facts (no queries, no clock).

The method (documented in docs/realtime.md):

1. **Base range**: how long a request at the head of the queue waits for an accept when a
   capable counselor is free: the 25th and 75th percentiles of recent request-to-match times,
   shrunk towards a prior (`PRIOR_LOW`..`PRIOR_HIGH` seconds) with the weight of
   `PRIOR_WEIGHT` pseudo-observations, so a quiet night with two matches does not promise
   10 seconds. No history at all: the prior.
2. **Queue**: `ahead` requests before this one (in the round's order) compete for the same
   counselors (same language and mode). While `ahead < free`, a free counselor is left for this
   one: the base range. Otherwise `k = ahead - free + 1` counselors must first finish a session.
   With `on_duty` capable counselors whose remaining session times are spread evenly over a
   session length `L`, the k-th of them frees up after about `k * L / (on_duty + 1)`; the range
   adds half to one and a half times that.
3. **Nobody on duty** who could take it: no upper bound (`high_seconds` None), the low end is
   the no-match deadline: "more than 3 minutes".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PRIOR_LOW = 20.0  # seconds: a free counselor usually accepts within a minute or so
PRIOR_HIGH = 90.0
PRIOR_WEIGHT = 5.0  # pseudo-observations behind the prior


@dataclass(frozen=True)
class WaitEstimate:
    low_seconds: int
    high_seconds: int | None  # None: no upper bound (nobody on duty who could take it)

    def exceeds(self, seconds: float) -> bool:
        return self.high_seconds is None or self.high_seconds > seconds


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (0 <= q <= 1) of a non-empty sequence."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def base_range(match_seconds: Sequence[float]) -> tuple[float, float]:
    """The head-of-queue range from recent request-to-match times, shrunk towards the prior."""
    n = len(match_seconds)
    if n == 0:
        return PRIOR_LOW, PRIOR_HIGH
    w = n / (n + PRIOR_WEIGHT)
    low = w * percentile(match_seconds, 0.25) + (1 - w) * PRIOR_LOW
    high = w * percentile(match_seconds, 0.75) + (1 - w) * PRIOR_HIGH
    return low, max(high, low)


def estimate_wait(
    *,
    ahead: int,
    on_duty: int,
    free: int,
    session_seconds: float,
    match_seconds: Sequence[float],
    open_low_seconds: int,
) -> WaitEstimate:
    """The range for a request with `ahead` competing requests before it, `on_duty` capable
    counselors on duty of whom `free` are free now, sessions of `session_seconds`, and recent
    request-to-match times `match_seconds`. `open_low_seconds` is the low end when nobody is on
    duty (the no-match deadline)."""
    if on_duty <= 0:
        return WaitEstimate(low_seconds=int(open_low_seconds), high_seconds=None)
    low, high = base_range(match_seconds)
    free = max(0, min(free, on_duty))
    if ahead >= free:
        k = ahead - free + 1
        extra = k * session_seconds / (on_duty + 1)
        low, high = low + 0.5 * extra, high + 1.5 * extra
    return WaitEstimate(low_seconds=round(low), high_seconds=math.ceil(high))
