"""A served app and a Celery worker as subprocesses whose whole log output (stdout and
stderr) goes to a file, for the tests that read what the processes log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(database_url: str, extra_env: dict | None) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "LOG_FORMAT": "json",
        **(extra_env or {}),
    }


def start_logged_server(
    database_url: str, log: Path, extra_env: dict | None = None, *, healthy: bool = True
):
    """config.asgi:application under uvicorn on a free loopback port, everything it prints
    appended to `log`; returns (process, base_url) once /healthz/ answers 200 (with
    `healthy=False`, once it answers at all)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(database_url, extra_env)
    level = env.get("LOG_LEVEL", "INFO").lower()
    out = open(log, "ab")  # noqa: SIM115 - the server's, closed with it
    proc = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            level,
        ],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            status = httpx.get(f"{base}/healthz/", timeout=5).status_code
            if status == 200 or not healthy:
                return proc, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def start_logged_worker(database_url: str, log: Path, extra_env: dict | None = None):
    """`celery -A config worker` (solo pool) on the test settings' queue, everything it prints
    appended to `log`; returns the process once the worker says it is ready."""
    env = _env(database_url, {"CELERY_TASK_ALWAYS_EAGER": "false", **(extra_env or {})})
    out = open(log, "ab")  # noqa: SIM115 - the worker's, closed with it
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            env.get("LOG_LEVEL", "INFO"),
        ],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"the worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return proc


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def json_lines(log: Path) -> list[dict]:
    """The log's JSON objects (lines that are not JSON, such as Celery's start-up banner
    printed before logging is set up, are skipped)."""
    entries = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
    return entries


def namespace_env(suffix: str) -> dict:
    """Env giving subprocesses a Celery queue and cache namespace of their own (the test
    settings derive both from PYTEST_XDIST_WORKER), so that what they leave queued (eta tasks
    a stopped worker puts back) never reaches another test's worker."""
    return {"PYTEST_XDIST_WORKER": f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{suffix}"}


def queue_purge(queue: str) -> None:
    """Drop what is left on `queue` (eta tasks a stopped worker restored to it)."""
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
