"""What both benchmarks share: the bench database, Django set-up, app servers, statistics."""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = os.environ.get("BENCH_DB") or "pianke_bench"  # override to keep concurrent runs apart
SETTINGS = "config.settings.local"  # with DEBUG=false in the environment: no query recording
DRIVER_APP_NAME = (
    "pianke-bench-driver"  # this process's own connections, left out of DatabaseActivity
)
LOG_DIR = Path(tempfile.mkdtemp(prefix="pianke-bench-"))


def log(*args) -> None:
    print("bench:", *args, file=sys.stderr, flush=True)


# --- The bench database -------------------------------------------------------------


def conninfo_from_url(url: str, dbname: str | None = None) -> str:
    """A libpq conninfo for a DATABASE_URL (TCP or unix-socket form), optionally for another db."""
    cfg = environ.Env.db_url_config(url)
    host = cfg.get("HOST") or cfg.get("OPTIONS", {}).get("host") or ""
    parts = {
        "dbname": dbname or cfg["NAME"],
        "user": cfg.get("USER"),
        "password": cfg.get("PASSWORD"),
        "host": host,
        "port": cfg.get("PORT"),
    }
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items() if v})


def bench_database_url(url: str) -> str:
    """The same server and credentials as `url`, database BENCH_DB."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def recreate_bench_database(url: str) -> None:
    with psycopg.connect(conninfo_from_url(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_bench_database(url: str) -> None:
    with psycopg.connect(conninfo_from_url(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def server_environment(bench_url: str) -> dict[str, str]:
    """The environment for this process and the app servers: the bench db, DEBUG off."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DEBUG": "false",
            "CACHE_KEY_PREFIX": "pianke-bench",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def setup_django(bench_url: str) -> None:
    """Django in this process, on the bench db, its connections named DRIVER_APP_NAME."""
    os.environ.update(server_environment(bench_url))
    parts = urlsplit(bench_url)
    query = "&".join(q for q in (parts.query, f"application_name={DRIVER_APP_NAME}") if q)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(query=query))
    import django

    django.setup()
    for name in ("httpx", "httpcore"):  # one INFO line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def sql(query: str, params=None) -> list[tuple]:
    """Run one statement on the bench db through Django's connection; rows if any."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def vacuum_analyze() -> None:
    from django.db import connection

    # VACUUM cannot run in a transaction; Django's connection is in autocommit here.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


# --- App servers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UVICORN = [
    str(BIN / "uvicorn"),
    "config.asgi:application",
    "--host",
    "127.0.0.1",
    "--lifespan",
    "off",
    "--no-access-log",
    # As served (docs/operations.md): at uvicorn's default of 5 s, a talk-now user's next POST
    # after a 5-10 s pause sometimes met the server closing the idle connection
    # (HTTPConnectionClosed in the load benchmark).
    "--timeout-keep-alive",
    "75",
]
SERVER_COMMANDS = {
    # One process each: uvicorn (uvloop + httptools) and daphne (Twisted), both without access logs.
    "uvicorn": lambda port: [*UVICORN, "--port", str(port)],
    "daphne": lambda port: [
        str(BIN / "daphne"),
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "-v",
        "0",
        "config.asgi:application",
    ],
    # For comparison only: two uvicorn worker processes (one per core here).
    "uvicorn_workers_2": lambda port: [*UVICORN, "--port", str(port), "--workers", "2"],
}


class Server:
    """An app server subprocess on a free loopback port; a context manager."""

    def __init__(self, name: str, env: dict[str, str]):
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = LOG_DIR / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open while the server runs
        self.proc = subprocess.Popen(
            SERVER_COMMANDS[name](self.port),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        if "workers" in name:
            time.sleep(2)  # /healthz/ answered by the first worker; give the others time to boot
        log(f"{name} up at {self.base_url} (pid {self.proc.pid}, log {self.log_path})")

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.base_url}/healthz/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer /healthz/ within {timeout}s; see {self.log_path}"
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server process and its live children
        (uvicorn's workers)."""
        return process_tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        _process_stop(self.proc, wait=10)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class DatabaseActivity:
    """Samples pg_stat_activity every 20 ms in a thread: how many of the bench database's
    connections are open and how many are busy (running a statement or inside a transaction)."""

    QUERY = """SELECT count(*), count(*) FILTER (WHERE state IN ('active', 'idle in transaction'))
                 FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> %s"""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                self.samples.append(conn.execute(self.QUERY, [DRIVER_APP_NAME]).fetchone())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        if not self.samples:
            return {}
        busy = [b for _o, b in self.samples]
        return {
            "connections_open_max": max(o for o, _b in self.samples),
            "connections_busy_max": max(busy),
            "connections_busy_mean": round(statistics.fmean(busy), 2),
        }


def cpu_snapshot() -> dict[str, float]:
    """CPU seconds so far: the whole machine (busy and total, all cores) and PostgreSQL
    (live server processes plus what the postmaster has reaped from exited backends)."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    postgres = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith("(postgres"):
            f = tail.split()
            postgres += (
                int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
            )  # utime stime cutime cstime
    return {
        "machine_busy_s": (sum(cpu) - idle) / tick,
        "machine_total_s": sum(cpu) / tick,
        "postgres_s": postgres / tick,
    }


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    total = after["machine_total_s"] - before["machine_total_s"]
    busy = after["machine_busy_s"] - before["machine_busy_s"]
    return {
        "machine_busy_fraction": round(busy / total, 3) if total else None,
        "postgres_cpu_s": round(after["postgres_s"] - before["postgres_s"], 2),
    }


# --- Statistics ----------------------------------------------------------------------


def percentiles_ms(latencies_s: list[float]) -> dict[str, float]:
    """p50/p95/p99 and max of latencies given in seconds, in milliseconds."""
    if len(latencies_s) < 2:
        return {}
    cuts = statistics.quantiles(latencies_s, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(latencies_s) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies_s) * 1000, 2),
    }


def rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


# --- Celery workers and process CPU ----------------------------------------------------


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of process `pid` and its live children, from /proc
    (0 once it is gone)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process went away
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _process_stop(proc: subprocess.Popen, *, wait: float) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `wait` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Worker:
    """A Celery worker subprocess on the environment's broker and database, a context manager:
    a thread pool (the tasks wait on PostgreSQL and Redis, not on the CPU), gossip and mingle
    off (nothing here needs them, and they cost start-up seconds), and beat in this worker
    only when `beat` is set, since one beat per deployment is what keeps the schedule single."""

    def __init__(self, name: str, env: dict[str, str], *, beat: bool, concurrency: int = 4):
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open while the worker runs
        command = [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",  # two workers on one machine need distinct node names
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),  # INFO logs each task
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            command += ["--beat", "--schedule", str(LOG_DIR / f"{name}-beat-schedule")]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        log(
            f"celery worker {name} pid {self.proc.pid}{' with beat' if beat else ''}, log {self.log_path}"
        )

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        _process_stop(self.proc, wait=15)  # SIGTERM: a warm shutdown, running tasks finish
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
