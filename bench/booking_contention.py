"""booking_contention: 32 clients race for the same 200 slots through the booking API.

Set-up: 20 verified counselors offering text sessions (daily cap 48, no minimum notice),
each with ONE one-off window of 5 hours = 10 free 30-minute slots. The windows are
staggered back to back (counselor i: [T0 + 5h*i, T0 + 5h*(i+1)), T0 = the next whole
hour a day from now), so the 200 slots never overlap in time: the client-side exclusion
constraint (one client, one session at a time) never stops anybody from winning a slot,
and every one of the 200 slots can and should be booked exactly once. The daily cap
cannot bind (a counselor has 10 slots in all).

Run: 32 client users, each with a DRF token and its own keep-alive httpx client in its
own thread, all released together; each tries all 200 slots in its own random order
(POST /api/v1/bookings/). Expected: 200 x 201 and 6,200 x 409 (slot_taken).
Afterwards SQL looks for two non-cancelled bookings of one counselor (or of one client)
that overlap: there must be none.

This is done against uvicorn and against daphne (one process each, bookings emptied in
between), and, for comparison only, uvicorn with two worker processes. Then the bare-DRF floor
(bench/drf_floor_urls.py: same settings, middleware and token authentication, one query, nothing
written) on one uvicorn with the same clients, and the baseline:
32 threads with a psycopg connection each run the same check-and-insert transaction in
raw SQL (lock the counselor row, check the one-off window, check for an overlapping
booking, insert) for the same 200 slots. During each run pg_stat_activity is sampled to
show how many database connections the server actually keeps busy, and CPU time (the
server's, this process's, PostgreSQL's, the whole machine's) is read from /proc.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import threading
import time
from collections import Counter

import httpx
import psycopg
import psycopg.sql

from bench.common import (
    DatabaseActivity,
    Server,
    conninfo_from_url,
    cpu_delta,
    cpu_snapshot,
    log,
    percentiles_ms,
    rate,
    sql,
)

COUNSELORS = 20
SLOTS_PER_COUNSELOR = 10
CLIENTS = 32
SLOT = dt.timedelta(minutes=30)
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def seed() -> tuple[list[tuple[int, dt.datetime]], list[tuple[int, str]]]:
    """Create counselors, windows and clients; return the slots and (client id, token) pairs."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import ConsentRecord, Intake, User
    from counselors.models import AvailabilityWindow, CounselorProfile
    from intake.consent import CURRENT_VERSION

    password = make_password(None)  # unusable; the clients authenticate with tokens
    t0 = (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    t0 += dt.timedelta(hours=1)
    span = SLOT * SLOTS_PER_COUNSELOR
    users = User.objects.bulk_create(
        [
            User(
                username=f"bench-counselor-{i}",
                role=User.Role.COUNSELOR,
                timezone=ZONES[i % len(ZONES)],
                password=password,
            )
            for i in range(COUNSELORS)
        ]
    )
    profiles = CounselorProfile.objects.bulk_create(
        [
            CounselorProfile(
                user=u,
                display_name=u.username,
                languages=["zh", "en"],
                modes=["text", "voice"],
                price_15=60,
                price_30=100,
                daily_cap=48,
                min_notice_minutes=0,
                verification=CounselorProfile.Verification.VERIFIED,
            )
            for u in users
        ]
    )
    AvailabilityWindow.objects.bulk_create(
        [
            AvailabilityWindow(
                counselor=p,
                kind=AvailabilityWindow.Kind.ONE_OFF,
                start=t0 + span * i,
                end=t0 + span * (i + 1),
            )
            for i, p in enumerate(profiles)
        ]
    )
    slots = [
        (p.pk, t0 + span * i + SLOT * k)
        for i, p in enumerate(profiles)
        for k in range(SLOTS_PER_COUNSELOR)
    ]
    clients = User.objects.bulk_create(
        [
            User(username=f"bench-client-{i}", role=User.Role.CLIENT, password=password)
            for i in range(CLIENTS)
        ]
    )
    consents = ConsentRecord.objects.bulk_create(
        [  # booking needs the consent and the intake first
            ConsentRecord(user=c, version=CURRENT_VERSION, language="en", agreed_at=timezone.now())
            for c in clients
        ]
    )
    Intake.objects.bulk_create(
        [
            Intake(
                user=c.user,
                consent=c,
                topic="stress",
                distress=3,
                phq4_nervous=1,
                phq4_worry=0,
                phq4_interest=0,
                phq4_down=0,
                phq4_score=1,
                band="normal",
                item9=0,
                risk="none",
                created_at=timezone.now(),
            )
            for c in consents
        ]
    )
    tokens = [(c.pk, Token.objects.create(user=c).key) for c in clients]
    log(
        f"contention: {len(profiles)} counselors, {len(slots)} slots from {slots[0][1]:%Y-%m-%d %H:%M} "
        f"to {slots[-1][1] + SLOT:%Y-%m-%d %H:%M} UTC, {len(clients)} clients"
    )
    return slots, tokens


def reset_bookings() -> None:
    from listening.models import Booking

    Booking.objects.all().delete()  # with what hangs off a booking (its reminders, messages)


def check_bookings(slots) -> dict:
    """Double bookings by SQL, and whether every slot ended up booked exactly once."""
    overlap = """
        SELECT count(*) FROM listening_booking a JOIN listening_booking b
          ON a.{who} = b.{who} AND a.id < b.id
         WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
           AND a.start < b."end" AND b.start < a."end" """
    booked = Counter(
        sql("SELECT counselor_id, start FROM listening_booking WHERE status <> 'cancelled'")
    )
    return {
        "double_bookings": sql(overlap.format(who="counselor_id"))[0][0],
        "client_double_bookings": sql(overlap.format(who="client_id"))[0][0],
        "bookings_in_db": sum(booked.values()),
        "slots_booked_exactly_once": sum(1 for s in slots if booked[s] == 1),
    }


def summarise(results: list[tuple], wall: float) -> dict:
    """results: (status, 409 code or None, latency s, seconds since the start when answered)."""
    statuses = Counter(str(r[0]) for r in results)
    booked_at = [r[3] for r in results if r[0] == 201]
    bookings = len(booked_at)
    return {
        "requests": len(results),
        "bookings_made": bookings,
        "conflicts_409": statuses.get("409", 0),
        "conflict_codes": dict(Counter(r[1] for r in results if r[0] == 409)),
        "other_statuses": {k: v for k, v in statuses.items() if k not in ("201", "409")},
        "wall_s": round(wall, 3),
        "requests_per_s": rate(len(results), wall),
        "bookings_per_s": rate(bookings, wall),
        "all_booked_after_s": round(max(booked_at), 3) if booked_at else None,
        "bookings_per_s_until_all_booked": rate(bookings, max(booked_at)) if booked_at else 0.0,
        "latency": percentiles_ms([r[2] for r in results]),
        "latency_201": percentiles_ms([r[2] for r in results if r[0] == 201]),
        "latency_409": percentiles_ms([r[2] for r in results if r[0] == 409]),
    }


def run_clients(work, count: int) -> tuple[list[tuple], float]:
    """Run work(i, barrier, out) in `count` threads released together; all results and wall seconds."""
    barrier = threading.Barrier(count + 1)
    outs: list[list] = [[] for _ in range(count)]
    threads = [threading.Thread(target=work, args=(i, barrier, outs[i])) for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    # Answer times were recorded as perf_counter values; make them relative to the start.
    results = [(s, c, lat, at - start) for out in outs for (s, c, lat, at) in out]
    return results, wall


def run_http(base_url: str, slots, tokens, seed: int) -> tuple[list[tuple], float]:
    def work(i, barrier, out):
        rng = random.Random(seed * 1000 + i)
        order = list(slots)
        rng.shuffle(order)
        headers = {"Authorization": f"Token {tokens[i][1]}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            client.get(
                "/api/v1/bookings/", params={"page_size": 1}
            )  # connect, authenticate, warm the pool
            barrier.wait()
            for counselor_id, start in order:
                body = {
                    "counselor": counselor_id,
                    "start": start.isoformat(),
                    "duration_minutes": 30,
                    "mode": "text",
                    "topic": "bench",
                }
                t0 = time.perf_counter()
                try:
                    r = client.post("/api/v1/bookings/", json=body)
                    status = r.status_code
                    code = r.json().get("code") if status == 409 else None
                except httpx.HTTPError as exc:
                    status, code = type(exc).__name__, None
                t1 = time.perf_counter()
                out.append((status, code, t1 - t0, t1))

    return run_clients(work, len(tokens))


def run_server(name: str, env: dict, database_url: str, slots, tokens) -> dict:
    reset_bookings()
    with Server(name, env) as server:
        cpu0, proc0, machine0 = server.cpu_seconds(), time.process_time(), cpu_snapshot()
        with DatabaseActivity(conninfo_from_url(database_url)) as activity:
            results, wall = run_http(server.base_url, slots, tokens, seed=1)
        server_cpu, client_cpu = server.cpu_seconds() - cpu0, time.process_time() - proc0
        machine = cpu_delta(machine0, cpu_snapshot())
    out = summarise(results, wall)
    out.update(check_bookings(slots))
    out["server_cpu_s"] = round(server_cpu, 2)
    out["server_cpu_per_request_ms"] = round(server_cpu / len(results) * 1000, 2)
    out["client_cpu_s"] = round(client_cpu, 2)  # this process: the 32 httpx threads
    out.update(machine)
    out["database"] = activity.summary()
    log(
        f"contention/{name}: {out['requests']} requests in {out['wall_s']}s = {out['requests_per_s']}/s, "
        f"{out['bookings_made']} booked, p95 {out['latency'].get('p95_ms')} ms, "
        f"double bookings {out['double_bookings']}"
    )
    return out


# --- The bare-DRF floor, same stack and run ------------------------------------------------

FLOOR_SETTINGS = "bench.drf_floor_settings"


def run_floor(env: dict, slots, tokens) -> dict:
    """The same clients and orders against bench/drf_floor_urls.py on one uvicorn: the
    project's settings, middleware and token authentication, a serializer and one query."""
    reset_bookings()
    with Server("uvicorn", {**env, "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS}) as server:
        cpu0 = server.cpu_seconds()
        results, wall = run_http(server.base_url, slots, tokens, seed=1)
        server_cpu = server.cpu_seconds() - cpu0
    out = summarise(results, wall)
    out["server_cpu_per_request_ms"] = round(server_cpu / len(results) * 1000, 2)
    log(
        f"contention/drf_floor: {out['requests']} requests in {out['wall_s']}s = "
        f"{out['requests_per_s']}/s, p95 {out['latency'].get('p95_ms')} ms"
    )
    return out


# --- The raw SQL baseline ---------------------------------------------------------------

LOCK = """SELECT price_30 FROM counselors_counselorprofile
           WHERE user_id = %s AND verification = 'verified' AND is_active FOR UPDATE"""
IN_WINDOW = """SELECT 1 FROM counselors_availabilitywindow
                WHERE counselor_id = %s AND kind = 'one_off' AND start <= %s AND "end" >= %s LIMIT 1"""
BUSY = """SELECT 1 FROM listening_booking
           WHERE counselor_id = %s AND status <> 'cancelled' AND start < %s AND "end" > %s LIMIT 1"""


def insert_statement() -> psycopg.sql.Composed:
    """INSERT INTO listening_booking with every NOT NULL column (Django sets column defaults in
    Python, not in the database). Built from the model once, before the run, so a NOT NULL
    field added by a later migration (e.g. message_seq) gets its model default here too."""
    from psycopg import sql as q

    from listening.models import Booking

    given = {
        "counselor": q.Placeholder("counselor"),
        "client": q.Placeholder("client"),
        "start": q.Placeholder("start"),
        "end": q.Placeholder("end"),
        "price": q.Placeholder("price"),
        "duration_minutes": q.Literal(30),
        "mode": q.Literal("text"),
        "topic": q.Literal("bench"),
        "status": q.Literal("confirmed"),
        "created_at": q.SQL("now()"),
    }
    columns, values = [], []
    for field in Booking._meta.concrete_fields:
        if field.primary_key or (field.null and field.name not in given):
            continue
        if field.name in given:
            value = given[field.name]
        else:
            default = field.get_default()  # the field's default, or "" for a blank string field
            if default is None:
                raise RuntimeError(
                    f"listening_booking.{field.column} is NOT NULL without a default"
                )
            value = q.Literal(default.value if isinstance(default, enum.Enum) else default)
        columns.append(q.Identifier(field.column))
        values.append(value)
    return q.SQL("INSERT INTO listening_booking ({}) VALUES ({})").format(
        q.SQL(", ").join(columns), q.SQL(", ").join(values)
    )


def run_raw(database_url: str, slots, tokens) -> dict:
    reset_bookings()
    conninfo = conninfo_from_url(database_url)
    insert = insert_statement()

    def work(i, barrier, out):
        rng = random.Random(1000 + i)
        order = list(slots)
        rng.shuffle(order)
        client_id = tokens[i][0]
        with psycopg.connect(conninfo, autocommit=True) as conn:
            barrier.wait()
            for counselor_id, start in order:
                end = start + SLOT
                t0 = time.perf_counter()
                status, code = 409, "slot_taken"
                try:
                    with conn.transaction():
                        (price,) = conn.execute(LOCK, [counselor_id]).fetchone()
                        if conn.execute(IN_WINDOW, [counselor_id, start, end]).fetchone() is None:
                            status, code = 400, "outside_window"
                        elif conn.execute(BUSY, [counselor_id, end, start]).fetchone() is None:
                            conn.execute(
                                insert,
                                {
                                    "counselor": counselor_id,
                                    "client": client_id,
                                    "start": start,
                                    "end": end,
                                    "price": price,
                                },
                            )
                            status, code = 201, None
                except psycopg.errors.ExclusionViolation as exc:
                    status, code = 409, exc.diag.constraint_name
                t1 = time.perf_counter()
                out.append((status, code, t1 - t0, t1))

    machine0, proc0 = cpu_snapshot(), time.process_time()
    with DatabaseActivity(conninfo) as activity:
        results, wall = run_clients(work, len(tokens))
    out = summarise(results, wall)
    out["client_cpu_s"] = round(time.process_time() - proc0, 2)
    out.update(cpu_delta(machine0, cpu_snapshot()))
    out["database"] = activity.summary()
    out["attempts_per_s"] = out.pop("requests_per_s")
    out["attempts"] = out.pop("requests")
    out.update(check_bookings(slots))
    log(
        f"contention/raw: {out['attempts']} attempts in {out['wall_s']}s = {out['attempts_per_s']}/s, "
        f"{out['bookings_made']} booked"
    )
    return out


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def run(env: dict, database_url: str) -> dict:
    slots, tokens = seed()
    servers = {
        name: run_server(name, env, database_url, slots, tokens) for name in ("uvicorn", "daphne")
    }
    workers_2 = run_server("uvicorn_workers_2", env, database_url, slots, tokens)
    floor = run_floor(env, slots, tokens)
    raw = run_raw(database_url, slots, tokens)
    faster, slower = sorted(servers, key=lambda n: servers[n]["requests_per_s"], reverse=True)
    result = {
        "baseline": "raw_sql: the same check-and-insert transaction in raw SQL from 32 psycopg threads "
        "(one connection each), same 200 slots, same random orders",
        "setup": {
            "counselors": COUNSELORS,
            "slots": len(slots),
            "clients": CLIENTS,
            "attempts_per_client": len(slots),
            "slot_layout": "one one-off 5-hour window per counselor, staggered back to back from T0 "
            "(next whole hour a day ahead), so no two of the 200 slots overlap in time and "
            "the client no-overlap rule never prevents a win; daily_cap 48, min_notice 0",
            "expected": {"201": len(slots), "409": CLIENTS * len(slots) - len(slots)},
            "client": "32 threads, one keep-alive httpx.Client each, in the bench process",
            "servers": "one process each: uvicorn (uvloop/httptools, --no-access-log), daphne (-v 0); "
            "plus, for comparison, uvicorn --workers 2; settings config.settings.local with "
            "DEBUG=false, psycopg pool max 20 per process",
            "database_activity": "pg_stat_activity sampled every 20 ms during each run: connections "
            "open and busy (active or idle in transaction)",
        },
        **servers,
        "uvicorn_workers_2": workers_2,
        "drf_floor": floor,
        "raw_sql": raw,
        # The goals (issue 17): at least 0.5x the floor and 0.1x raw SQL, one uvicorn process.
        "ratio_uvicorn_vs_drf_floor": ratio(
            servers["uvicorn"]["requests_per_s"], floor["requests_per_s"]
        ),
    }
    for name in (*servers, "uvicorn_workers_2"):
        r = result[name]
        result[f"ratio_{name}_vs_raw"] = {
            "requests_per_s": ratio(r["requests_per_s"], raw["attempts_per_s"]),
            "bookings_per_s": ratio(r["bookings_per_s"], raw["bookings_per_s"]),
            "bookings_per_s_until_all_booked": ratio(
                r["bookings_per_s_until_all_booked"], raw["bookings_per_s_until_all_booked"]
            ),
        }
    result["faster_server"] = faster
    result["faster_by"] = {
        "requests_per_s_factor": ratio(
            servers[faster]["requests_per_s"], servers[slower]["requests_per_s"]
        ),
        "p95_latency_factor": ratio(
            servers[slower]["latency"]["p95_ms"], servers[faster]["latency"]["p95_ms"]
        ),
    }
    result["faster_server_note"] = (
        "uvicorn vs daphne, one process each; uvicorn_workers_2 is a "
        "comparison only and is not used by slot_search"
    )
    result["double_bookings_total"] = sum(
        r["double_bookings"] for r in (*servers.values(), workers_2, raw)
    )
    return result
