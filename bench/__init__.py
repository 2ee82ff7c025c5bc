"""Pianke benchmarks: `python -m bench` (or `make bench`) prints one JSON object.

Everything runs against a database of its own, ``pianke_bench``, created fresh on the
server named by ``DATABASE_URL`` at every run (so dev and test data are never touched)
and dropped at the end (set ``BENCH_KEEP_DB=1`` to keep it for a look afterwards).
The app servers are started as subprocesses on 127.0.0.1 with ``DEBUG=false``.

``booking_contention`` (bench/booking_contention.py)
    200 free 30-minute slots (20 counselors x 10) and 32 clients who each try to book
    every slot, in their own random order, all at once, through POST /api/v1/bookings/
    on uvicorn and on daphne (and, as a comparison, uvicorn with 2 workers). Measures
    throughput (requests/s, bookings/s), latency percentiles, the outcome mix, CPU and
    database connections in use, and checks by SQL that no counselor was booked twice.
    Baseline: the same check-and-insert transaction in raw SQL from 32 psycopg threads,
    i.e. what the database alone can do.

``slot_search`` (bench/slot_search.py)
    2,000 verified counselors with weekly windows in five time zones and a few existing
    bookings each. Measures the latency of the directory's "free in the next 24 hours"
    search (with and without a specialty filter) and of one counselor's 7-day slot
    list, one request at a time against the faster ASGI server. Baseline: the directory
    with the specialty filter only (no availability computation), which shows what the
    availability filter itself costs. The product goal is a directory p95 under 50 ms.
"""
