"""`python -m bench smoke` (`make bench-smoke`): the four benchmarks at a fraction of their size,
as a gate that runs in a few minutes. Prints one JSON object, appends it as one line to
`bench/history.jsonl`, and exits 1 when a message is lost, a talk-now request never gets its
offer, a booking is made twice, or a figure falls below half of its goal:

| check | goal | fails when |
| --- | --- | --- |
| chat, 50 sessions for 15 s on one server process | p99 within 25x the bare relay's, same run | any message lost, or p99 over 50x |
| talk now, 60 requests, 20 counselors | offer p95 under 1 s | any request without an offer, or p95 over 2 s |
| booking, 1,000 requests on one uvicorn | at least 0.5x the bare-DRF floor (bench/drf_floor_urls.py), same run | any double booking, or under 0.25x |
| directory, 500 counselors, specialty + 24 h free-time filter | p95 under 50 ms | p95 over 100 ms |

The same modules as `make bench`, with smaller module-level parameters set here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

from bench.common import (
    BENCH_DB,
    LOG_DIR,
    ROOT,
    Server,
    bench_database_url,
    drop_bench_database,
    log,
    migrate,
    recreate_bench_database,
    server_environment,
    setup_django,
)

HISTORY = ROOT / "bench" / "history.jsonl"
FLOOR_SETTINGS = "bench.drf_floor_settings"

GOALS = {
    "chat_p99_vs_relay_at_most": 25.0,
    "offer_p95_ms_under": 1000.0,
    "booking_vs_drf_floor_at_least": 0.5,
    "directory_p95_ms_under": 50.0,
}


def _shrink() -> None:
    from bench import booking_contention, chat_relay, match_latency, slot_search

    booking_contention.COUNSELORS, booking_contention.SLOTS_PER_COUNSELOR = 5, 5
    booking_contention.CLIENTS = 40  # 25 slots x 40 clients = 1,000 requests
    slot_search.COUNSELORS, slot_search.CLIENTS = 500, 250
    slot_search.REQUESTS, slot_search.TIME_BUDGET = 100, 10.0
    chat_relay.SESSIONS, chat_relay.DURATION, chat_relay.GRACE = 50, 15, 5.0
    match_latency.COUNSELORS, match_latency.REQUESTS = 20, 60
    match_latency.SPREAD, match_latency.PATIENCE = 15.0, 30.0


def booking(env: dict, bench_url: str) -> dict:
    from bench import booking_contention as bc

    slots, tokens = bc.seed()
    real = bc.run_server("uvicorn", env, bench_url, slots, tokens)
    bc.reset_bookings()
    with Server("uvicorn", {**env, "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS}) as server:
        results, wall = bc.run_http(server.base_url, slots, tokens, seed=1)
    floor = bc.summarise(results, wall)
    bc.reset_bookings()
    ratio = bc.ratio(real["requests_per_s"], floor["requests_per_s"])
    return {
        "requests": real["requests"],
        "requests_per_s": real["requests_per_s"],
        "p95_ms": real["latency"].get("p95_ms"),
        "double_bookings": real["double_bookings"],
        "drf_floor_requests_per_s": floor["requests_per_s"],
        "drf_floor_p95_ms": floor["latency"].get("p95_ms"),
        "ratio_to_drf_floor": ratio,
    }


def directory(env: dict) -> dict:
    from bench import slot_search

    result = slot_search.run(env, "uvicorn")
    d = result["directory_specialty_available"]
    return {
        "counselors": slot_search.COUNSELORS,
        "p50_ms": d.get("p50_ms"),
        "p95_ms": d.get("p95_ms"),
    }


def chat(env: dict) -> dict:
    from bench import chat_relay

    result = chat_relay.run(env)
    d, b = result["room_server"], result["websockets_relay"]
    return {
        "server": d["server"],
        "sessions": chat_relay.SESSIONS,
        "seconds": chat_relay.DURATION,
        "sent": d["messages_sent"],
        "lost": d["messages_lost"],
        "stored_equals_sent": d["stored_equals_sent"],
        "p50_ms": d["delivery_latency"].get("p50_ms"),
        "p99_ms": d["delivery_latency"].get("p99_ms"),
        "relay_p50_ms": b["delivery_latency"].get("p50_ms"),
        "relay_p99_ms": b["delivery_latency"].get("p99_ms"),
        "relay_lost": b["messages_lost"],
        "ratio_p99_to_relay": result["ratio_room_vs_baseline"]["p99_latency"],
        "server_cpu_ms_per_message": d["server_cpu_ms_per_message"],
    }


def talk_now(env: dict) -> dict:
    from bench import match_latency

    result = match_latency.run(env)
    offer = result["request_to_offer_delivered"]
    return {
        "requests": result["requests"],
        "counselors": result["counselors"],
        "posted": result["posted"],
        "offered": result["offered"],
        "matched": result["matched"],
        "offer_p50_ms": offer.get("p50_ms"),
        "offer_p95_ms": offer.get("p95_ms"),
        "accepted_twice": result["database"]["requests_accepted_twice"],
        "phases": result["offer_phases"],
    }


def verdict(figures: dict) -> list[str]:
    """The reasons this run fails (empty: it passes)."""
    failed = []
    c = figures.get("chat", {})
    if c.get("lost") or c.get("relay_lost") or not c.get("stored_equals_sent"):
        failed.append(
            f"chat: {c.get('lost')} messages lost (stored = sent: {c.get('stored_equals_sent')})"
        )
    if (
        c.get("ratio_p99_to_relay") is None
        or c["ratio_p99_to_relay"] > 2 * GOALS["chat_p99_vs_relay_at_most"]
    ):
        failed.append(
            f"chat: p99 {c.get('ratio_p99_to_relay')}x the relay's (goal 25x, fails over 50x)"
        )
    t = figures.get("talk_now", {})
    if t.get("offered") != t.get("requests") or t.get("accepted_twice"):
        failed.append(f"talk now: {t.get('offered')} of {t.get('requests')} requests got an offer")
    if t.get("offer_p95_ms") is None or t["offer_p95_ms"] > 2 * GOALS["offer_p95_ms_under"]:
        failed.append(
            f"talk now: offer p95 {t.get('offer_p95_ms')} ms (goal 1,000, fails over 2,000)"
        )
    b = figures.get("booking", {})
    if b.get("double_bookings"):
        failed.append(f"booking: {b['double_bookings']} double bookings")
    if (
        b.get("ratio_to_drf_floor") is None
        or b["ratio_to_drf_floor"] < GOALS["booking_vs_drf_floor_at_least"] / 2
    ):
        failed.append(
            f"booking: {b.get('ratio_to_drf_floor')}x the DRF floor (goal 0.5x, fails under 0.25x)"
        )
    d = figures.get("directory", {})
    if d.get("p95_ms") is None or d["p95_ms"] > 2 * GOALS["directory_p95_ms_under"]:
        failed.append(f"directory: p95 {d.get('p95_ms')} ms (goal 50, fails over 100)")
    return failed


def _git() -> dict:
    def out(*args):
        try:
            return subprocess.run(
                ["git", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": out("rev-parse", "--short", "HEAD"),
        "dirty": bool(out("status", "--porcelain")),
    }


def main() -> int:
    url = os.environ["DATABASE_URL"]
    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    _shrink()
    bench_url = bench_database_url(url)
    log(f"smoke: recreating database {BENCH_DB}; server logs in {LOG_DIR}")
    recreate_bench_database(url)
    figures: dict = {}
    try:
        setup_django(bench_url)
        migrate()
        env = server_environment(bench_url)
        for name, step in (
            ("booking", lambda: booking(env, bench_url)),
            ("directory", lambda: directory(env)),
            ("chat", lambda: chat(env)),
            ("talk_now", lambda: talk_now(env)),
        ):
            t0 = time.perf_counter()
            try:
                figures[name] = step()
            except Exception as exc:  # noqa: BLE001 - a benchmark that crashes fails the gate, with its reason
                log(f"smoke: {name} crashed: {exc!r}")
                figures[name] = {"error": repr(exc)}
            figures[name]["seconds"] = round(time.perf_counter() - t0, 1)
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP_DB") != "1":
            drop_bench_database(url)
    failed = verdict(figures)
    result = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_git(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "goals": GOALS,
        **figures,
        "passed": not failed,
        "failures": failed,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    with HISTORY.open("a") as f:
        f.write(json.dumps(result, default=str, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    for reason in failed:
        log(f"smoke: FAILED: {reason}")
    return 0 if not failed else 1


if __name__ == "__main__":  # pragma: no cover - run through `python -m bench smoke`
    sys.exit(main())
