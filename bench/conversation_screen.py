"""conversation_screen: the CPU cost of screening one chat message, window included (issue 12).

Per message: `crisis_detect` (the single-message detector, which also returns the
conversation cues), `message_screen`, and `conversation_assess` over a window of the
client's last 12 stored screens, as `ethics.services.risk_text_record` does after reading
the window's cue rows. Reported separately: messages with no phrase of any kind (the fast
path, which stores and queries nothing) and messages with cues. Goal: p95 under 5 ms.
The database round trips of a message with cues (3-5 small queries) are not included.
No database or server:

    python -m bench.conversation_screen
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from ethics.conversation import WINDOW_MESSAGES, conversation_assess, message_screen
from ethics.detector import crisis_detect, warm_up

DATA = Path(__file__).resolve().parent.parent / "tests" / "ethics" / "data"

EVERYDAY = [
    "今天工作很累，老板又骂我了",
    "我们周末去爬山吧",
    "I had a long day at work and my manager was on my case again",
    "not sure what to say, I guess I'm just tired",
    "嗯嗯，我明白你的意思",
    "thanks, that actually helps a bit",
    "我妈又催我结婚了，真的很烦",
    "I keep replaying the argument in my head",
]


def _texts() -> list[str]:
    texts = list(EVERYDAY)
    for line in (DATA / "crisis_fresh5.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        texts.append(line.split("\t", 1)[1])
    for line in (DATA / "conversations_fresh5.jsonl").read_text(encoding="utf-8").splitlines():
        texts.extend(json.loads(line)["messages"])
    return texts


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(n: int = 5000, seed: int = 12) -> dict:
    warm_up()
    rng = random.Random(seed)
    texts = _texts()
    # A realistic mix: most chat lines carry nothing.
    pool = EVERYDAY * 6 + texts
    window: list = []
    quiet: list[float] = []
    cued: list[float] = []
    for _ in range(n):
        text = rng.choice(pool)
        t0 = time.perf_counter()
        detection = crisis_detect(text)
        if detection.cues:
            screen = message_screen(detection, len(window))
            window = (window + [screen])[-WINDOW_MESSAGES:]
            conversation_assess(window)
        elapsed = (time.perf_counter() - t0) * 1000
        (cued if detection.cues else quiet).append(elapsed)
    every = quiet + cued
    return {
        "messages": n,
        "share_with_cues": round(len(cued) / n, 3),
        "p50_ms": round(statistics.median(every), 3),
        "p95_ms": round(_p(every, 0.95), 3),
        "p99_ms": round(_p(every, 0.99), 3),
        "quiet_p95_ms": round(_p(quiet, 0.95), 3) if quiet else None,
        "cued_p95_ms": round(_p(cued, 0.95), 3) if cued else None,
        "goal_p95_ms": 5.0,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
