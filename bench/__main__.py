"""`python -m bench`: run the benchmarks, print one JSON object (progress goes to stderr).

Needs DATABASE_URL (any database on the server to use; the benchmarks create their own
`pianke_bench` there) and REDIS_URL, as `make bench` provides. See bench/__init__.py.
Exits 1 if any double booking was found.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib.metadata import version

from bench import (
    booking_contention,
    chat_relay,
    load_mix,
    match_latency,
    matching_quality,
    slot_search,
)
from bench.common import (
    BENCH_DB,
    LOG_DIR,
    bench_database_url,
    drop_bench_database,
    log,
    migrate,
    recreate_bench_database,
    server_environment,
    setup_django,
    sql,
)

BENCHMARKS = [
    "booking_contention",
    "slot_search",
    "chat_relay",
    "matching_quality",
    "match_latency",
    "load",
]
# Pure in-process benchmarks: no database, no servers. Run alone, they skip the bench database.
DB_LESS = {"matching_quality"}


def machine(with_db: bool = True) -> dict:
    info = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            name: version(name)
            for name in (
                "django",
                "djangorestframework",
                "uvicorn",
                "daphne",
                "psycopg",
                "httpx",
                "numpy",
                "scipy",
                "locust",
            )
        },
    }
    if with_db:
        info["postgres"] = sql("SHOW server_version")[0][0]
    return info


def main() -> int:
    url = os.environ.get("DATABASE_URL")
    if not url or not os.environ.get("REDIS_URL"):
        print(
            "bench: DATABASE_URL and REDIS_URL must be set (make bench sets them)", file=sys.stderr
        )
        return 2
    if sys.argv[1:] == ["smoke"]:  # the quick gate, its own run (bench/smoke.py)
        from bench import smoke

        return smoke.main()
    selected = set(sys.argv[1:]) or set(BENCHMARKS)
    unknown = selected - set(BENCHMARKS)
    if unknown:
        print(
            f"bench: unknown benchmark(s) {sorted(unknown)}; choose from {BENCHMARKS}",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    if selected <= DB_LESS:
        result = {}
        if "matching_quality" in selected:
            result["matching_quality"] = matching_quality.run()
        result["machine"] = machine(with_db=False)
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(result, indent=2, default=str))
        return 0
    bench_url = bench_database_url(url)
    log(f"recreating database {BENCH_DB}; server logs in {LOG_DIR}")
    recreate_bench_database(url)
    try:
        setup_django(bench_url)
        migrate()
        env = server_environment(bench_url)
        result = {"database": BENCH_DB}
        faster = "uvicorn"
        if "booking_contention" in selected:
            result["booking_contention"] = booking_contention.run(env, bench_url)
            faster = result["booking_contention"]["faster_server"]
        if "slot_search" in selected:
            result["slot_search"] = slot_search.run(env, faster)
        if "chat_relay" in selected:
            result["chat_relay"] = chat_relay.run(env)
        if "matching_quality" in selected:
            result["matching_quality"] = matching_quality.run()
        if "match_latency" in selected:
            result["match_latency"] = match_latency.run(env)
        if "load" in selected:  # last: it clears what the others seeded
            result["load"] = load_mix.run(env)
        result["machine"] = machine()
        result["total_seconds"] = round(time.perf_counter() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP_DB") != "1":
            drop_bench_database(url)
    print(json.dumps(result, indent=2, default=str))
    load_db = [
        c["database"]
        for c in result.get("load", {}).values()
        if isinstance(c, dict) and "database" in c
    ]
    if result.get("booking_contention", {}).get("double_bookings_total") or any(
        d["double_bookings"] or d["client_double_bookings"] for d in load_db
    ):
        log("DOUBLE BOOKINGS FOUND")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
