"""A served app as a subprocess whose whole log output (stdout and stderr) goes to a file,
for the tests that read what the processes log (a worker's: tests.celery_subprocess)."""

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
