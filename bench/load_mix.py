"""load: the realistic mix (bench/locustfile.py) under locust, on 1 and then 2 web processes.

Set-up, afresh for each configuration (everything earlier benchmarks left is cleared first, so
both configurations start from the same database): the directory of slot_search (300 verified
counselors with weekly windows in five zones and a few bookings each), and, for the USERS
locust users (one persona each, in the shares of SHARES):
  60 % clients with the current consent and a calm intake (match_latency's seeding), each with
       one confirmed async-mode booking of their own (so async messages can be posted at once);
  20 % chat pairs: the client and the counselor of one live text booking (chat_relay's seeding);
  10 % talk-now clients (match_latency's seeding);
  10 % counselors for talk-now (match_latency's on-duty counselors, taken off duty here: they go
       on duty themselves through the API when their user starts).
Every persona has a DRF token.

Run, per configuration of P web processes (BENCH_LOAD_PROCESSES, default "1,2"): P uvicorn
processes (config.asgi:application, DEBUG off, the Redis channel layer) on P loopback ports and
P Celery workers (4 threads each; beat in the first only) on the same Redis and PostgreSQL. Two
processes on two ports rather than `uvicorn --workers 2` on one: the kernel does not spread
long-lived keep-alive and WebSocket connections evenly over the workers of one socket, whereas
here the locustfile puts user i on port i mod P (the client and the counselor of a chat room on
different ports, so each message crosses processes through the channel layer, as behind a load
balancer), and each server's CPU is read on its own. Then `locust --headless -u USERS -r
SPAWN_RATE -t SECONDS` as a subprocess (gevent stays out of this process, which holds Django and
psycopg), with `--reset-stats`: the statistics cover the time after every user has started.
Meanwhile a thread here moves each booking a talk-now accept made out of the way (a day back per
id, as match_latency does) 2 s after the accept, so that a counselor can take several requests
in a run; that write is the harness's.

Reported per configuration: HTTP requests/s, chat messages/s, p50/p95/p99 per endpoint (locust's
names: an id is "[id]"), failures with their messages, the 409 answers a race is entitled to
(counted apart, not failures), chat messages sent / delivered / stored, talk-now outcomes, the
server and worker logs' tracebacks, double bookings by SQL, and CPU seconds over the measured
window of each server, the workers, locust itself, PostgreSQL, Redis and the whole machine.
Then the ratio of HTTP throughput with 2 processes to 1 (goal 1.7x).

Environment: BENCH_LOAD_USERS (200), BENCH_LOAD_SECONDS (60), BENCH_LOAD_SPAWN_RATE (20),
BENCH_LOAD_PROCESSES ("1,2"), BENCH_LOAD_THINK (1.0, a multiplier on every think time). A smoke
variant, whose load part takes about 30 s (plus the database's creation and migrations):
BENCH_LOAD_USERS=20 BENCH_LOAD_SECONDS=10 BENCH_LOAD_PROCESSES=1.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

from bench import booking_contention, chat_relay, match_latency, slot_search
from bench.common import (
    BIN,
    LOG_DIR,
    ROOT,
    Server,
    Worker,
    cpu_delta,
    cpu_snapshot,
    log,
    process_tree_cpu_seconds,
    sql,
)

USERS = int(os.environ.get("BENCH_LOAD_USERS") or 200)
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS") or 60)
SPAWN_RATE = float(os.environ.get("BENCH_LOAD_SPAWN_RATE") or 20)
PROCESSES = [int(p) for p in (os.environ.get("BENCH_LOAD_PROCESSES") or "1,2").split(",")]
THINK = float(os.environ.get("BENCH_LOAD_THINK") or 1.0)
DIRECTORY_COUNSELORS = 300
SHARES = {"rooms": 0.2, "talk_now_clients": 0.1, "counselors": 0.1}  # the rest: clients
FREE_AFTER = 2.0  # seconds after an accept before the harness frees the counselor
GOAL_SCALE = 1.7
NON_HTTP = ("WS", "FLOW")  # locust request types that are not HTTP requests


@contextmanager
def overridden(module, **values):
    """Another benchmark's module-level sizes, set for the length of a block (as smoke does)."""
    saved = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


def split(users: int) -> dict[str, int]:
    counts = {kind: max(1, round(users * share)) for kind, share in SHARES.items()}
    counts["clients"] = users - sum(counts.values())
    if counts["clients"] < 1:
        raise SystemExit(f"load: at least {sum(counts.values()) + 1} users, please")
    return counts


# --- Set-up ---------------------------------------------------------------------------------


def seed(users: int) -> dict:
    """Clear the database's people and bookings, seed the directory and the personas."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from counselors.models import CounselorProfile
    from listening.models import Booking
    from matching.models import MatchRequest, Presence

    counts = split(users)
    started = time.perf_counter()
    # A matched request must keep its booking (a check constraint), so the requests go first.
    MatchRequest.objects.all().delete()
    slot_search.clear()
    with overridden(
        slot_search, COUNSELORS=DIRECTORY_COUNSELORS, CLIENTS=DIRECTORY_COUNSELORS // 2
    ):
        directory, specialties = slot_search.seed(random.Random(16))
    with overridden(
        match_latency,
        COUNSELORS=counts["counselors"],
        REQUESTS=counts["clients"] + counts["talk_now_clients"],
    ):
        desks, clients = match_latency.seed_people()
    # They go on duty themselves (POST counselors/me/presence/) once their locust user starts.
    Presence.objects.filter(counselor__user__auth_token__key__in=desks).update(online=False)
    rooms = chat_relay.seed(counts["rooms"])
    booking_clients = clients[: counts["clients"]]
    client_ids = dict(Token.objects.filter(key__in=booking_clients).values_list("key", "user_id"))
    profiles = list(CounselorProfile.objects.filter(pk__in=directory).only("pk", "price_30"))
    # One async-mode booking per client, three weeks out and half an hour apart, so that none
    # overlaps another booking of its counselor or of its client.
    base = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=21)
    asyncs = Booking.objects.bulk_create(
        [
            Booking(
                counselor=profiles[i % len(profiles)],
                client_id=client_ids[key],
                start=base + dt.timedelta(minutes=30 * i),
                end=base + dt.timedelta(minutes=30 * i + 30),
                duration_minutes=30,
                mode="async",
                topic="load",
                price=profiles[i % len(profiles)].price_30,
                status=Booking.Status.CONFIRMED,
            )
            for i, key in enumerate(booking_clients)
        ]
    )
    log(f"load: seeded {counts} personas in {time.perf_counter() - started:.1f}s")
    return {
        "clients": [
            {"token": key, "async_booking": b.pk} for key, b in zip(booking_clients, asyncs)
        ],
        "rooms": [list(r) for r in rooms],
        "talk_now_clients": clients[counts["clients"] :],
        "counselors": desks,
        "specialties": specialties,
    }


class Freer(threading.Thread):
    """The harness's stand-in for a talk-now session running its course: FREE_AFTER seconds
    after an accept, its booking moves back out of the way (match_latency.free_counselor)."""

    QUERY = """SELECT r.booking_id FROM matching_offer o
                 JOIN matching_matchrequest r ON r.id = o.request_id
                WHERE o.status = 'accepted' AND r.booking_id IS NOT NULL
                  AND o.responded_at < now() - make_interval(secs => %s)"""

    def __init__(self):
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.freed: set[int] = set()

    def run(self) -> None:
        from django.db import connection

        while not self.halt.wait(0.5):
            for (booking_id,) in sql(self.QUERY, [FREE_AFTER]):
                if booking_id not in self.freed:
                    match_latency.free_counselor(booking_id)
                    self.freed.add(booking_id)
            connection.close()


# --- One configuration ----------------------------------------------------------------------


class PatientServer(Server):
    """common.Server with more time to come up: on this shared machine a Django process can
    take over 30 s to import while other suites run."""

    def _wait_ready(self, timeout: float = 120) -> None:
        super()._wait_ready(timeout)


def start_servers(count: int, env: dict) -> list[Server]:
    """`count` uvicorn processes started side by side (each import takes seconds of CPU)."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(PatientServer, "uvicorn", env) for _ in range(count)]
    servers, failure = [], None
    for f in futures:
        try:
            servers.append(f.result())
        except RuntimeError as exc:
            failure = exc
    if failure:
        for server in servers:
            server.stop()
        raise failure
    return servers


def read_stats(prefix: str) -> tuple[dict, dict, list, list]:
    """(per endpoint, aggregated) from locust's <prefix>_stats.csv, and the failures and
    exceptions from <prefix>_failures.csv and <prefix>_exceptions.csv."""

    def rows(suffix):
        try:
            with open(f"{prefix}_{suffix}.csv", newline="") as f:
                return list(csv.DictReader(f))
        except FileNotFoundError:
            return []

    def figures(row):
        n = int(row["Request Count"])
        ms = lambda key: float(row[key]) if row[key] not in ("", "N/A") and n else None
        return {
            "requests": n,
            "failures": int(row["Failure Count"]),
            "requests_per_s": round(float(row["Requests/s"]), 2),
            "p50_ms": ms("50%"),
            "p95_ms": ms("95%"),
            "p99_ms": ms("99%"),
            "max_ms": ms("100%"),
        }

    endpoints, total = {}, {}
    for row in rows("stats"):
        if row["Name"] == "Aggregated":
            total = figures(row)
        else:
            endpoints[f"{row['Type']} {row['Name']}"] = {"type": row["Type"], **figures(row)}
    failures = [
        {
            "request": f"{r['Method']} {r['Name']}",
            "error": r["Error"][:300],
            "n": int(r["Occurrences"]),
        }
        for r in rows("failures")
    ]
    exceptions = [
        {"n": int(r["Count"]), "message": r["Message"][:300], "traceback": r["Traceback"][-1500:]}
        for r in rows("exceptions")
    ]
    return endpoints, total, failures, exceptions


SHUTDOWN_LINE = "Shutting down"  # uvicorn's, when the harness stops it after the run


def log_report(path) -> dict:
    """chat_relay.log_problems for a server or worker log, plus the tracebacks logged after the
    harness began stopping the process (a socket still opening when it is told to stop), which
    are not failures of the run itself."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return {
        **chat_relay.log_problems(path),
        "tracebacks_after_shutdown_began": text.partition(SHUTDOWN_LINE)[2].count("Traceback"),
    }


def first_traceback(path) -> str | None:
    """The first traceback logged during the run (before shutdown), shortened, for the report;
    the app never logs message text, and these are its own log lines."""
    text = path.read_text(errors="replace") if path.exists() else ""
    text = text.partition(SHUTDOWN_LINE)[0]
    at = text.find("Traceback")
    return text[max(0, at - 300) : at + 2500] if at >= 0 else None


def check_database(personas: dict, outcomes: dict) -> dict:
    from listening.models import SessionMessage

    stored = SessionMessage.objects.filter(booking_id__in=[r[0] for r in personas["rooms"]]).count()
    acknowledged, sent = outcomes.get("chat acknowledged", 0), outcomes.get("chat sent", 0)
    books = booking_contention.check_bookings([])
    return {
        "double_bookings": books["double_bookings"],
        "client_double_bookings": books["client_double_bookings"],
        "chat_messages_stored": stored,
        # Every acknowledged message is stored; one sent as locust stopped may be or not.
        "chat_stored_between_acknowledged_and_sent": acknowledged <= stored <= sent,
        "talk_now": match_latency.check_database(),
    }


def run_config(env: dict, processes: int, personas: dict) -> dict:
    prefix = f"pianke-bench-load-{os.getpid()}-{processes}"
    env = {**env, "CACHE_KEY_PREFIX": prefix, "CELERY_TASK_ALWAYS_EAGER": "false"}
    label = f"load/{processes}_process{'es' if processes > 1 else ''}"
    log(f"{label}: dropped {match_latency.purge_broker(env)} tasks left on the broker")
    users = sum(len(v) for k, v in personas.items() if k != "specialties")
    personas_path = LOG_DIR / f"load-personas-{processes}.json"
    personas_path.write_text(json.dumps(personas))
    outcomes_path = LOG_DIR / f"load-outcomes-{processes}.json"
    csv_prefix = str(LOG_DIR / f"load-{processes}")
    load_before = [round(x, 2) for x in os.getloadavg()]
    with ExitStack() as stack:
        workers = [
            stack.enter_context(Worker(f"load-worker-{processes}-{i}", env, beat=i == 0))
            for i in range(processes)
        ]
        servers = [stack.enter_context(s) for s in start_servers(processes, env)]
        time.sleep(2)  # the workers connect to Redis
        freer = Freer()
        freer.start()
        locust_log = LOG_DIR / f"locust-{processes}.log"
        command = [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(SPAWN_RATE),
            "--run-time",
            f"{SECONDS}s",
            "--reset-stats",
            "--stop-timeout",
            "5",
            "--csv",
            csv_prefix,
            "--only-summary",
            "--host",
            servers[0].base_url,
            "--loglevel",
            "WARNING",
        ]
        locust_env = {
            **env,
            "PIANKE_LOAD_PERSONAS": str(personas_path),
            "PIANKE_LOAD_HOSTS": ",".join(s.base_url for s in servers),
            "PIANKE_LOAD_THINK": str(THINK),
            "PIANKE_LOAD_OUT": str(outcomes_path),
        }
        with open(locust_log, "w") as out:
            started = time.perf_counter()
            locust = subprocess.Popen(
                command, cwd=ROOT, env=locust_env, stdout=out, stderr=subprocess.STDOUT
            )
            log(f"{label}: locust pid {locust.pid}, {users} users for {SECONDS}s, log {locust_log}")
            # CPU over the measured window only: from when every user has started (when
            # --reset-stats resets the statistics) to just before the run time is up.
            ramp = users / SPAWN_RATE
            time.sleep(ramp + 1)
            window0 = time.perf_counter()
            cpu0 = cpu_figures(servers, workers, locust.pid, env["REDIS_URL"])
            time.sleep(max(1.0, started + SECONDS - 1 - time.perf_counter()))
            cpu1 = cpu_figures(servers, workers, locust.pid, env["REDIS_URL"])
            window = time.perf_counter() - window0
            try:
                locust.wait(SECONDS + 60)
            except subprocess.TimeoutExpired:
                locust.kill()
                locust.wait()
        freer.halt.set()
        freer.join()
        time.sleep(1)  # the last disconnects reach the logs
    load_after = [round(x, 2) for x in os.getloadavg()]
    endpoints, total, failures, exceptions = read_stats(csv_prefix)
    outcomes = json.loads(outcomes_path.read_text()) if outcomes_path.exists() else {}
    http = {k: v for k, v in endpoints.items() if v["type"] not in NON_HTTP}
    chat = endpoints.get("WS ws chat.message", {})
    logs = {s.log_path.name: log_report(s.log_path) for s in [*servers, *workers]}
    result = {
        "web_processes": processes,
        "celery_workers": processes,
        "users": users,
        "personas": {k: len(v) for k, v in personas.items() if k != "specialties"},
        "seconds": SECONDS,
        "measured_seconds_after_ramp": round(SECONDS - ramp, 1),
        "locust_exit_code": locust.returncode,
        "http_requests_per_s": round(sum(v["requests_per_s"] for v in http.values()), 1),
        "http_requests": sum(v["requests"] for v in http.values()),
        "chat_messages_per_s": chat.get("requests_per_s"),
        "all_events_per_s": total.get("requests_per_s"),
        "failures": total.get("failures"),
        "failure_detail": failures,
        "exceptions": exceptions,
        "endpoints": {
            k: {
                f: v[f]
                for f in (
                    "requests",
                    "failures",
                    "requests_per_s",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "max_ms",
                )
            }
            for k, v in sorted(endpoints.items())
        },
        "outcomes": outcomes,
        "talk_now_counselors_freed_by_harness": len(freer.freed),
        "server_logs": logs,
        "first_traceback": next(
            (t for p in [*servers, *workers] if (t := first_traceback(p.log_path))), None
        ),
        "database": check_database(personas, outcomes),
        "cpu": cpu_report(cpu0, cpu1, window),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    # What one request costs the servers in CPU, whatever share of the machine they got: with
    # it, 1 / cost is one process's ceiling on a core of its own.
    events = result["all_events_per_s"]
    server_cores = result["cpu"]["cores"]["servers"]
    result["server_cpu_ms_per_request"] = round(server_cores / events * 1000, 1) if events else None
    log(
        f"{label}: {result['http_requests_per_s']} HTTP requests/s, "
        f"{result['chat_messages_per_s']} chat messages/s, {result['failures']} failures; "
        f"CPU (cores) {result['cpu']['cores']}"
    )
    chat_relay.cleanup_redis(env["REDIS_URL"], prefix)
    return result


def cpu_figures(servers, workers, locust_pid: int, redis_url: str) -> dict:
    return {
        "servers": [s.cpu_seconds() for s in servers],
        "workers": [w.cpu_seconds() for w in workers],
        "locust": process_tree_cpu_seconds(locust_pid),
        "redis": chat_relay.redis_cpu_seconds(redis_url),
        "this_process": time.process_time(),
        "machine": cpu_snapshot(),
    }


def cpu_report(a: dict, b: dict, window: float) -> dict:
    """CPU used over the window, in cores (CPU seconds per second): each server, the workers,
    locust, PostgreSQL, Redis, this process, and what else ran on the machine meanwhile."""
    cores = lambda x: round(x / window, 2)
    servers = [cores(y - x) for x, y in zip(a["servers"], b["servers"])]
    machine = cpu_delta(a["machine"], b["machine"])
    ours = {
        "servers": sum(y - x for x, y in zip(a["servers"], b["servers"])),
        "workers": sum(y - x for x, y in zip(a["workers"], b["workers"])),
        "locust": b["locust"] - a["locust"],
        "postgres": machine["postgres_cpu_s"],
        "redis": b["redis"] - a["redis"],
        "this_process": b["this_process"] - a["this_process"],
    }
    busy = b["machine"]["machine_busy_s"] - a["machine"]["machine_busy_s"]
    return {
        "window_s": round(window, 1),
        "cores": {
            "each_server": servers,
            **{k: cores(v) for k, v in ours.items()},
            "everything_else_on_the_machine": cores(busy - sum(ours.values())),
            "machine_busy": cores(busy),
            "machine_total": os.cpu_count(),
        },
        "machine_busy_fraction": machine["machine_busy_fraction"],
    }


# --- The whole benchmark --------------------------------------------------------------------


def run(env: dict) -> dict:
    limits = chat_relay.raise_open_files()  # inherited by locust, which holds many sockets
    configs = {}
    for processes in PROCESSES:
        personas = seed(USERS)
        configs[processes] = run_config(env, processes, personas)
    out = {
        "setup": {
            "users": USERS,
            "personas": split(USERS),
            "seconds": SECONDS,
            "spawn_rate": SPAWN_RATE,
            "think_multiplier": THINK,
            "directory_counselors": DIRECTORY_COUNSELORS,
            "servers": "uvicorn, one process per port; users spread round robin over the ports",
            "workers": "celery --pool threads --concurrency 4, one per web process, beat in the first",
            "locust": "a subprocess, FastHttpUser and websocket-client under gevent, one process, "
            "--reset-stats (figures after every user has started)",
            "open_files": limits,
        },
        **{f"{p}_process{'es' if p > 1 else ''}": r for p, r in configs.items()},
    }
    if 1 in configs and 2 in configs:
        one, two = configs[1], configs[2]
        out["scale_2_vs_1"] = {
            "http_requests_per_s": ratio(two["http_requests_per_s"], one["http_requests_per_s"]),
            "all_events_per_s": ratio(two["all_events_per_s"], one["all_events_per_s"]),
            "goal": GOAL_SCALE,
        }
    out["errors_total"] = sum(c["failures"] or 0 for c in configs.values())
    return out


def ratio(a, b):
    return round(a / b, 2) if a and b else None


if __name__ == "__main__":  # pragma: no cover - run through `python -m bench load`
    raise SystemExit("run: python -m bench load")
