"""slot_search: how fast clients find free time among 2,000 counselors.

Set-up (bulk-created, then VACUUM ANALYZE): 2,000 verified counselors in five time zones
(Asia/Shanghai, Europe/Berlin, America/New_York, Asia/Tokyo, Australia/Sydney), each
with 1-3 specialties, 1-3 session languages, 1-4 modes, a buffer of 0-15 minutes and
3-6 weekly windows (distinct weekdays, 1-4 hours between 07:00 and midnight local time,
quarter-hour aligned, valid from a week ago), and up to 3 confirmed bookings each inside
their windows in the next 5 days, held by 1,000 clients with no client double-booked.

Measured one request at a time (latency, not throughput) against one app server:
  directory_specialty_available  GET /api/v1/counselors/?specialty=S&available_from=now&available_to=now+24h
                                 (specialties rotate; `duration` left at its default, 15)
  directory_available            the same without the specialty filter (all 2,000 are candidates)
  slots                          GET /api/v1/counselors/<id>/slots/?from=now&to=now+7d&duration=30
                                 for random counselors
  directory_specialty_only       baseline: ?specialty=S alone, no availability computation
Each endpoint gets a few warm-up requests, then up to REQUESTS requests or TIME_BUDGET
seconds, whichever comes first (the count is reported).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict

import httpx

from bench.common import Server, log, percentiles_ms, sql, vacuum_analyze

COUNSELORS = 2000
CLIENTS = 1000
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
LANGUAGES = ["zh", "en", "yue", "ja", "ko", "fr", "de", "es"]
MODES = ["text", "async", "voice", "video"]
REQUESTS = 200
TIME_BUDGET = 30.0  # seconds per endpoint
WARMUP = 5
GOAL_P95_MS = 50
GOAL_P95_ALL_MS = 150  # without a specialty: every counselor is a candidate


def clear() -> None:
    """Remove what the other benchmarks left (booking_contention's bookings, charges and
    ledger), so the directory holds exactly the 2,000 seeded here. TRUNCATE, not DELETE: the
    ledger's rows are immutable (their triggers refuse DELETE; TRUNCATE fires no row trigger),
    and this is the bench's own database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_user CASCADE")


def seed(rng: random.Random) -> tuple[list[int], list[str]]:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from core.availability import WeeklyRule, weekly_occurrences
    from counselors.models import AvailabilityWindow, CounselorProfile, Specialty
    from listening.models import Booking

    started = time.perf_counter()
    password = make_password(None)
    now = timezone.now()
    today = now.date()
    specialties = list(Specialty.objects.all())
    users = User.objects.bulk_create(
        [
            User(
                username=f"search-counselor-{i}",
                role=User.Role.COUNSELOR,
                timezone=ZONES[i % len(ZONES)],
                password=password,
            )
            for i in range(COUNSELORS)
        ],
        batch_size=1000,
    )
    profiles = CounselorProfile.objects.bulk_create(
        [
            CounselorProfile(
                user=u,
                display_name=f"Counselor {i}",
                bio="Listening, without judgement. " * 4,
                languages=sorted(rng.sample(LANGUAGES[:4], rng.randint(1, 3))),
                modes=sorted(rng.sample(MODES, rng.randint(1, 4))),
                price_15=rng.choice([40, 60, 80]),
                price_30=rng.choice([70, 100, 140]),
                daily_cap=rng.choice([4, 6, 8, 12]),
                min_notice_minutes=rng.choice([0, 10, 30, 60]),
                buffer_minutes=rng.choice([0, 0, 5, 10, 15]),
                verification=CounselorProfile.Verification.VERIFIED,
                rating=round(rng.uniform(3.5, 5), 2),
                review_count=rng.randint(0, 300),
            )
            for i, u in enumerate(users)
        ],
        batch_size=1000,
    )
    Through = CounselorProfile.specialties.through
    Through.objects.bulk_create(
        [
            Through(counselorprofile_id=p.pk, specialty_id=s.pk)
            for p in profiles
            for s in rng.sample(specialties, rng.randint(1, 3))
        ],
        batch_size=5000,
    )

    windows, rules = [], defaultdict(list)
    for p, u in zip(profiles, users):
        for weekday in rng.sample(range(7), rng.randint(3, 6)):
            start_q = rng.randint(7 * 4, 20 * 4)  # quarter hours from midnight: 07:00 .. 20:00
            end_q = min(start_q + rng.randint(4, 16), 96)  # 1-4 hours, at most midnight
            start_time = dt.time(start_q // 4, start_q % 4 * 15)
            end_time = dt.time(
                end_q // 4 % 24, end_q % 4 * 15
            )  # 96 quarters = 00:00, i.e. midnight
            windows.append(
                AvailabilityWindow(
                    counselor=p,
                    kind=AvailabilityWindow.Kind.WEEKLY,
                    weekday=weekday,
                    start_time=start_time,
                    end_time=end_time,
                    timezone=u.timezone,
                    valid_from=today - dt.timedelta(days=7),
                )
            )
            rules[p.pk].append(
                WeeklyRule(
                    weekday, start_time, end_time, u.timezone, today - dt.timedelta(days=7), None
                )
            )
    AvailabilityWindow.objects.bulk_create(windows, batch_size=5000)

    clients = User.objects.bulk_create(
        [
            User(username=f"search-client-{i}", role=User.Role.CLIENT, password=password)
            for i in range(CLIENTS)
        ],
        batch_size=1000,
    )
    client_busy: dict[int, list] = defaultdict(list)
    bookings = []
    horizon_start, horizon_end = now + dt.timedelta(hours=2), now + dt.timedelta(days=5)
    for p in profiles:
        occurrences = [
            o
            for rule in rules[p.pk]
            for o in weekly_occurrences(rule, horizon_start, horizon_end)
            if o[1] - o[0] >= dt.timedelta(minutes=30) and o[0] >= horizon_start
        ]
        # Distinct weekdays and windows within one local day: occurrences never overlap,
        # so one booking per occurrence never double-books the counselor.
        for ws, we in rng.sample(occurrences, min(3, len(occurrences))):
            quarters = int((we - ws - dt.timedelta(minutes=30)) / dt.timedelta(minutes=15))
            start = ws + dt.timedelta(minutes=15 * rng.randint(0, quarters))
            end = start + dt.timedelta(minutes=30)
            for _try in range(20):
                client = rng.choice(clients)
                if all(end <= s or start >= e for s, e in client_busy[client.pk]):
                    break
            else:
                continue
            client_busy[client.pk].append((start, end))
            bookings.append(
                Booking(
                    counselor=p,
                    client=client,
                    start=start,
                    end=end,
                    duration_minutes=30,
                    mode=p.modes[0],
                    topic="seed",
                    price=p.price_30,
                )
            )
    Booking.objects.bulk_create(bookings, batch_size=5000)
    vacuum_analyze()
    log(
        f"slot_search: seeded {len(profiles)} counselors, {len(windows)} weekly windows, "
        f"{len(bookings)} bookings, {len(clients)} clients in {time.perf_counter() - started:.1f}s"
    )
    return [p.pk for p in profiles], [s.slug for s in specialties]


def fill_free_time() -> dict:
    """Precompute every counselor's free time as the beat's sweep does (FreeTime rows)."""
    from counselors.models import FreeTime
    from listening.services import free_time_sweep

    started = time.perf_counter()
    done = free_time_sweep(limit=COUNSELORS)
    seconds = time.perf_counter() - started
    vacuum_analyze()
    rows = FreeTime.objects.count()
    log(f"slot_search: free time of {done} counselors in {seconds:.1f}s ({rows} rows)")
    return {"counselors": done, "seconds": round(seconds, 2), "rows": rows}


def measure(client: httpx.Client, make_request, rng: random.Random) -> dict:
    """Latency of make_request(i) -> (path, params), one at a time."""
    for i in range(WARMUP):
        path, params = make_request(i, rng)
        client.get(path, params=params).raise_for_status()
    latencies, counts, statuses = [], [], defaultdict(int)
    deadline = time.perf_counter() + TIME_BUDGET
    for i in range(REQUESTS):
        if time.perf_counter() > deadline:
            break
        path, params = make_request(i, rng)
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        latencies.append(time.perf_counter() - t0)
        statuses[str(r.status_code)] += 1
        if r.status_code == 200:
            body = r.json()
            counts.append(body["count"] if isinstance(body, dict) else len(body))
    return {
        "requests": len(latencies),
        "statuses": dict(statuses),
        **percentiles_ms(latencies),
        "mean_results": round(sum(counts) / len(counts), 1) if counts else None,
    }


def run(env: dict, server_name: str) -> dict:
    rng = random.Random(7)
    clear()
    counselor_ids, slugs = seed(rng)
    iso = lambda t: t.isoformat()  # aware UTC datetimes: "+00:00"

    def now():
        return dt.datetime.now(dt.UTC)

    def directory_specialty_available(i, rng):
        t = now()
        return "/api/v1/counselors/", {
            "specialty": slugs[i % len(slugs)],
            "available_from": iso(t),
            "available_to": iso(t + dt.timedelta(hours=24)),
        }

    def directory_available(i, rng):
        t = now()
        return "/api/v1/counselors/", {
            "available_from": iso(t),
            "available_to": iso(t + dt.timedelta(hours=24)),
        }

    def slots(i, rng):
        t = now()
        return (
            f"/api/v1/counselors/{rng.choice(counselor_ids)}/slots/",
            {"from": iso(t), "to": iso(t + dt.timedelta(days=7)), "duration": 30},
        )

    def directory_specialty_only(i, rng):
        return "/api/v1/counselors/", {"specialty": slugs[i % len(slugs)]}

    endpoints = {
        "directory_specialty_available": directory_specialty_available,
        "directory_available": directory_available,
        "slots": slots,
        "directory_specialty_only": directory_specialty_only,
    }
    results = {}
    with (
        Server(server_name, env) as server,
        httpx.Client(base_url=server.base_url, timeout=120) as client,
    ):
        # First with no precomputed free time (every counselor computed live, as before the
        # FreeTime table), then with it filled by the sweep, in the same run.
        for name in ("directory_specialty_available", "directory_available"):
            results[f"{name}_live"] = measure(client, endpoints[name], rng)
            log(f"slot_search/{name}_live: p95 {results[f'{name}_live'].get('p95_ms')} ms")
        results["free_time_fill"] = fill_free_time()
        for name, make_request in endpoints.items():
            results[name] = measure(client, make_request, rng)
            log(
                f"slot_search/{name}: n={results[name]['requests']} p50 {results[name].get('p50_ms')} ms "
                f"p95 {results[name].get('p95_ms')} ms"
            )
    p95 = results["directory_specialty_available"].get("p95_ms")
    p95_all = results["directory_available"].get("p95_ms")
    for name in ("directory_specialty_available", "directory_available"):
        live = results[f"{name}_live"].get("p95_ms")
        if live and results[name].get("p95_ms"):
            results[name]["p95_ratio_to_live"] = round(results[name]["p95_ms"] / live, 3)
    return {
        "baseline": "directory_specialty_only: the directory with the specialty filter alone "
        "(no free-slot computation), same server",
        "server": server_name,
        "setup": {
            "counselors": COUNSELORS,
            "clients": CLIENTS,
            "windows": sql("SELECT count(*) FROM counselors_availabilitywindow")[0][0],
            "bookings": sql("SELECT count(*) FROM listening_booking")[0][0],
            "specialties": len(slugs),
            "zones": ZONES,
            "method": f"sequential requests from one keep-alive httpx client, {WARMUP} warm-up "
            f"requests, then up to {REQUESTS} requests or {TIME_BUDGET:.0f}s per endpoint; "
            "directory page size 20 (default)",
        },
        **results,
        "goal": {
            "directory_p95_ms_under": GOAL_P95_MS,
            "met_with_specialty": p95 is not None and p95 < GOAL_P95_MS,
            "directory_without_specialty_p95_ms_under": GOAL_P95_ALL_MS,
            "met_without_specialty": p95_all is not None and p95_all < GOAL_P95_ALL_MS,
        },
    }
