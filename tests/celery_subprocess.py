"""A real Celery worker in a subprocess of the test, on Redis and the test database, for the
tests that kill one (SIGKILL) and start another: tests/listening/test_reminders_worker.py and
tests/faults/test_worker_kill.py.

The worker gets a namespace of its own (its Celery queue and cache prefix, which
config/settings/test.py derives from PYTEST_XDIST_WORKER), so it takes no task of the suite's
in-thread workers and they take none of its. The test drives it as the beat would, with
`send_to(namespace, task_name)`; what the worker's tasks queue goes to its own queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config.celery import app
from tests.conftest import database_url_for_tests

ROOT = Path(__file__).resolve().parent.parent


def worker_namespace(label: str) -> str:
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{label}"


def worker_queue(namespace: str) -> str:
    return f"pianke-test-{namespace}-celery"


def start_worker(
    namespace: str,
    log_path: Path,
    *,
    extra_env: dict | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    loglevel: str = "WARNING",
    ready: bool = False,
) -> subprocess.Popen:
    """A `celery -A config worker` on the test database (needs database access: call from a
    test with `transactional_db`), logging to `log_path`; with `ready`, returned once the
    worker has said so in its log."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTEST_XDIST_WORKER": namespace,
        **(extra_env or {}),
    }
    log = open(log_path, "ab")  # noqa: SIM115 - the worker's, closed with it
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            loglevel,
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    log.close()
    deadline = time.monotonic() + 60
    while ready and "ready." not in log_path.read_text(errors="replace"):
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.kill()
            raise RuntimeError(f"the worker did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return worker


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL: no warm shutdown, nothing acknowledged, transactions cut off."""
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def send_to(namespace: str, task_name: str, *args) -> None:
    """Queue `task_name` for the worker of `namespace` (what the beat does on its schedule)."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        app.send_task(task_name, args=args, queue=worker_queue(namespace))
    finally:
        app.conf.task_always_eager = eager


def purge_queue(namespace: str) -> None:
    """Drop what is left in the worker's queue (eta tasks it restored on shutdown)."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(worker_queue(namespace))
