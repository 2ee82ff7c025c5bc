"""The health endpoints (core/health.py): /healthz/ names the database and Redis checks,
/readyz/ answers 503 while migrations are unapplied; both cheap, without a session, and
reachable by a plain-HTTP probe under the production settings."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from core import health
from tests.conftest import database_url_for_tests, start_server, stop_server
from tests.ops.conftest import start_logged_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Redis unreachable: a closed loopback port (nothing listens on port 1)."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(health, "_redis_client", None)
    yield


@pytest.fixture
def not_ready(monkeypatch):
    """A process that has not yet seen every migration applied."""
    monkeypatch.setattr(health, "_ready", False)


def test_healthz_names_each_check():
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_answers_503_naming_redis_when_redis_is_down(redis_down):
    response = Client().get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "redis": "error"}}


def test_healthz_does_not_say_why_redis_failed(redis_down):
    assert "127.0.0.1" not in Client().get("/healthz/").content.decode()


def test_healthz_runs_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        Client().get("/healthz/")


def test_healthz_answers_head():
    assert Client().head("/healthz/").status_code == 200


def test_healthz_refuses_post():
    assert Client().post("/healthz/").status_code == 405


def test_health_answers_are_not_cached():
    assert "no-cache" in Client().get("/healthz/")["Cache-Control"]


def test_health_probes_start_no_session_and_set_no_cookie():
    before = Session.objects.count()
    browser = Client()
    responses = [browser.get("/healthz/"), browser.get("/readyz/")]
    assert all(not r.cookies for r in responses)
    assert Session.objects.count() == before


def test_healthz_is_not_throttled():
    browser = Client()
    assert {browser.get("/healthz/").status_code for _ in range(50)} == {200}


def test_readyz_is_ready_when_every_migration_is_applied(not_ready):
    response = Client().get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"migrations": "ok"}}


def test_readyz_answers_503_while_a_migration_is_unapplied(not_ready):
    # Inside the test's transaction, rolled back afterwards.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'listening' AND name = "
            "(SELECT max(name) FROM django_migrations WHERE app = 'listening')"
        )
    response = Client().get("/readyz/")
    assert response.status_code == 503
    assert response.json() == {"status": "migrating", "unapplied_migrations": 1}


def test_readyz_stays_ready_without_a_query_once_ready(not_ready, django_assert_num_queries):
    Client().get("/readyz/")
    with django_assert_num_queries(0):
        assert Client().get("/readyz/").status_code == 200


@pytest.fixture(scope="module")
def production_server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    proc, base = start_server(
        "uvicorn", database_url, {"DJANGO_SETTINGS_MODULE": "config.settings.production"}
    )
    yield base
    stop_server(proc)


def test_a_plain_http_probe_gets_healthz_under_production_settings(production_server):
    response = httpx.get(f"{production_server}/healthz/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_probe_naming_a_host_not_in_allowed_hosts_gets_400(production_server):
    """So a balancer's probe must send a Host that ALLOWED_HOSTS lists (docs/operations.md)."""
    response = httpx.get(f"{production_server}/healthz/", headers={"Host": "10.0.0.7"})
    assert response.status_code == 400


def test_a_plain_http_probe_gets_readyz_under_production_settings(production_server):
    response = httpx.get(f"{production_server}/readyz/")
    assert response.status_code == 200


def test_a_served_app_without_a_database_answers_503_naming_it(tmp_path):
    """A real server whose database does not answer (nothing listens on its port) but whose
    Redis does. (No pool: with one, a request waits out the pool's 10 s timeout first.)"""
    proc, base = start_logged_server(
        "postgres://postgres@127.0.0.1:1/nowhere",
        tmp_path / "server.log",
        {"DATABASE_POOL": "false"},
        healthy=False,
    )
    try:
        response = httpx.get(f"{base}/healthz/", timeout=15)
        assert response.status_code == 503
        assert response.json() == {
            "status": "error",
            "checks": {"database": "error", "redis": "ok"},
        }
        assert httpx.get(f"{base}/readyz/", timeout=15).status_code == 503
    finally:
        stop_server(proc)
