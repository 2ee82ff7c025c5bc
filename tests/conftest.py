"""Personas and helpers shared by the whole suite. Everything runs against the real
PostgreSQL and Redis given by DATABASE_URL / REDIS_URL (see scripts/devservices.py)."""

import datetime as dt

import pytest
from channels.layers import channel_layers
from rest_framework.test import APIClient

from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    StaffFactory,
    next_quarter,
)


def api_as(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def client_user(db):
    return ClientFactory(username="alice")


@pytest.fixture
def other_client_user(db):
    return ClientFactory(username="bob")


@pytest.fixture
def counselor(db):
    """A verified counselor (Asia/Shanghai) with a three-hour window tomorrow."""
    profile = CounselorProfileFactory(user__username="chen")
    start = next_quarter(days=1).replace(minute=0)
    OneOffWindowFactory(counselor=profile, start=start, end=start + dt.timedelta(hours=3))
    return profile


@pytest.fixture
def other_counselor(db):
    return CounselorProfileFactory(user__username="dana", user__timezone="Europe/Berlin")


@pytest.fixture
def staff_user(db):
    return StaffFactory(username="sam")


@pytest.fixture
def as_client(client_user):
    return api_as(client_user)


@pytest.fixture
def as_other_client(other_client_user):
    return api_as(other_client_user)


@pytest.fixture
def as_counselor(counselor):
    return api_as(counselor.user)


@pytest.fixture
def as_other_counselor(other_counselor):
    return api_as(other_counselor.user)


@pytest.fixture
def as_staff(staff_user):
    return api_as(staff_user)


def database_url_for_tests() -> str:
    """A DATABASE_URL naming the test database, for servers and workers started as subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    if s["HOST"].startswith("/"):
        return f"postgres://{auth}@/{s['NAME']}?host={s['HOST']}"
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_server(kind: str, database_url: str, extra_env: dict | None = None):
    """Start config.asgi:application under uvicorn or daphne on a free loopback port, in its
    own process, against `database_url`; returns (process, base_url) once it answers."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        **(extra_env or {}),
    }
    bin_dir = Path(sys.executable).parent
    if kind == "uvicorn":
        cmd = [
            str(bin_dir / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--backlog",
            "2048",
        ]
    else:
        cmd = [
            str(bin_dir / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz/", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"{kind} did not start")
        time.sleep(0.1)


def stop_server(proc) -> None:
    import subprocess

    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """The production ASGI server (uvicorn) running config.asgi:application against the
    test database, in its own process. Tests using it need `transaction=True` so that
    what they write is committed and visible to the server."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    proc, base = start_server("uvicorn", database_url)
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """config.asgi:application under daphne (what Channels' live-server tests use), its
    own process, on the test database and the real Redis channel layer. Base http URL."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    proc, base = start_server("daphne", database_url)
    yield base
    stop_server(proc)


@pytest.fixture
def tight_throttles(monkeypatch):
    """Register and token limited to two requests a minute. Use a REMOTE_ADDR of your own per test:
    the counters live in the real Redis cache, so `throttled_api` clears them before and after."""
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/minute", "token": "2/minute"}
    )


@pytest.fixture
def throttled_api(tight_throttles):
    """`throttled_api("10.77.0.1")` is an anonymous APIClient coming from that address, with
    fresh throttle counters for it."""
    from django.core.cache import cache

    addresses = []

    def clear(address):
        cache.delete_many([f"throttle_{scope}_{address}" for scope in ("register", "token")])

    def make(address: str) -> APIClient:
        addresses.append(address)
        clear(address)
        return APIClient(REMOTE_ADDR=address)

    yield make
    for address in addresses:
        clear(address)


@pytest.fixture
def celery_worker_on_redis(transactional_db):
    """A real Celery worker consuming from Redis (in a thread of this process, so Django's
    locmem outbox is shared). Tasks go through the broker instead of running eagerly."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ):
            yield app
    finally:
        app.conf.task_always_eager = True


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Poll until predicate() is truthy (for work done by another process or thread)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup):
    """Close the psycopg pools at the end so the test database can be dropped."""
    yield
    from django.db import connections

    for conn in connections.all():
        if getattr(conn, "pool", None) is not None:
            conn.close_pool()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Give each test its own channel layer. channels_redis keeps one asyncio lock per process
    for its specific channels; a consumer from an earlier test (another event loop) cancelled
    inside a receive can leave that lock held, and the next test's consumers would die on
    "bound to a different event loop"."""
    yield
    channel_layers.backends.clear()


def seed_reference_data() -> None:
    """Specialties and the resource directory as the data migrations seed them. A transactional
    test starts from a flushed database (seeded rows included), so tests that need them call
    this (idempotent)."""
    import importlib

    from django.apps import apps as django_apps

    for module in (
        "counselors.migrations.0002_seed_specialties",
        "counselors.migrations.0007_starter_toolkit_library",
        "ethics.migrations.0002_seed_resources",
        "ethics.migrations.0004_seed_referral_resources",
    ):
        importlib.import_module(module).seed(django_apps, None)


@pytest.fixture
def reference_data(transactional_db):
    seed_reference_data()
