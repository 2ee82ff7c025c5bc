"""End-to-end fixtures: the production ASGI app under uvicorn plus a real Celery worker, both
in their own processes on the test database and Redis, driven by Debian's Chromium through
Playwright. Every test here is marked `e2e` (`make test-fast` skips them)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.test import TransactionTestCase
from psycopg.errors import DeadlockDetected

from tests.conftest import database_url_for_tests, start_server, stop_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _flush_retried_on_deadlock(monkeypatch):
    """The worker's beat keeps running while a test's database is flushed at its end, and a
    task's transaction (a sweep reading several tables) can deadlock with the flush's TRUNCATE
    of them all; PostgreSQL then aborts one of the two, sometimes the flush. Its atomic block
    rolls back whole, so the flush is tried again (the task goes on; the next try gets its
    locks)."""
    teardown = TransactionTestCase._fixture_teardown

    def retried(self):
        for attempt in range(3):
            try:
                return teardown(self)
            except CommandError as error:
                # CommandError from Django's OperationalError from psycopg's error.
                cause = getattr(error.__cause__, "__cause__", None)
                if attempt == 2 or not isinstance(cause, DeadlockDetected):
                    raise

    monkeypatch.setattr(TransactionTestCase, "_fixture_teardown", retried)


@pytest.fixture(autouse=True)
def _orm_between_browser_steps(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; the ORM calls that set up test
    data are still plain synchronous calls between browser steps. Only for these tests (and
    not for the servers, which start earlier, at session scope)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def e2e_server(django_db_setup, django_db_blocker):
    """Base URL of uvicorn serving config.asgi:application (HTTP and WebSockets) with Celery
    not eager, and a real Celery worker (with beat embedded) on a queue and cache namespace of
    their own (so they never take the tasks of the in-thread workers other tests start). One
    per module: the beat must not keep running against the database under other tests."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    namespace = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-e2e"
    env = {"CELERY_TASK_ALWAYS_EAGER": "false", "PYTEST_XDIST_WORKER": namespace}
    proc, base = start_server("uvicorn", database_url, extra_env=env)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-B",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "-s",
            f"/tmp/celerybeat-e2e-{os.getpid()}",
        ],
        env={
            **os.environ,
            **env,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        },
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield base
    worker.terminate()
    try:
        worker.wait(15)
    except subprocess.TimeoutExpired:
        worker.kill()
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the whole session: Playwright's sync API keeps an
    event loop running in this thread while it is open, which the asyncio tests of other
    modules (run by the same xdist worker) cannot share."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH"
        )
        if os.environ.get("PIANKE_E2E_REQUIRED"):  # CI (.ci/run) insists on the browser tests
            pytest.fail(message)
        pytest.skip(message)
    # An assertion waits up to 15 s, as actions do (Playwright's default is 5 s): on a 2-core CI
    # machine running the other xdist worker, uvicorn and a Celery worker at once, a room's
    # socket once took longer than 5 s to connect (stop 29). A test that must be quicker says so.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--no-sandbox",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def new_context(browser, e2e_server, transactional_db):
    """Make a browser context (one person's browser), optionally signed in as `user`, with a
    time zone and locale. Closed at the end of the test."""
    contexts = []

    def make(user=None, *, timezone_id: str = "Asia/Shanghai", locale: str = "en-US", **kwargs):
        ctx = browser.new_context(
            base_url=e2e_server,
            timezone_id=timezone_id,
            locale=locale,
            permissions=["camera", "microphone"],
            **kwargs,
        )
        ctx.set_default_timeout(15_000)
        if user is not None:
            sign_in(ctx, user, e2e_server)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def sign_in(ctx, user, base_url: str) -> None:
    """Give the browser context a logged-in session for `user` (as Django's test client does)."""
    from urllib.parse import urlparse

    from django.conf import settings
    from django.test import Client

    c = Client()
    c.force_login(user)
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": c.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": urlparse(base_url).hostname,
                "path": "/",
            }
        ]
    )


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under tests/e2e/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
