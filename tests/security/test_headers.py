"""Security headers on served responses: the Content-Security-Policy and Permissions-Policy
of core.security (every environment), and HSTS with the rest of Django's production settings
on a server started with config.settings.production."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.conftest import database_url_for_tests, start_server, stop_server
from tests.factories import BookingFactory


def directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


@pytest.fixture(scope="module")
def production_server(django_db_setup, django_db_blocker):
    """config.asgi:application under uvicorn with the production settings (DEBUG off, HTTPS
    redirect, HSTS), on the test database."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    proc, base = start_server(
        "uvicorn", database_url, {"DJANGO_SETTINGS_MODULE": "config.settings.production"}
    )
    yield base
    stop_server(proc)


def test_a_served_page_has_a_script_policy_without_inline_or_eval(asgi_server):
    csp = directives(httpx.get(f"{asgi_server}/help/").headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]


def test_a_served_page_may_not_be_framed(asgi_server):
    response = httpx.get(f"{asgi_server}/help/")
    assert directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_served_page_sends_a_referrer_policy_and_nosniff(asgi_server):
    response = httpx.get(f"{asgi_server}/help/")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_served_page_other_than_the_room_allows_no_camera_or_microphone(asgi_server):
    policy = httpx.get(f"{asgi_server}/help/").headers["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy


def test_the_api_is_served_with_the_policy_too(asgi_server):
    response = httpx.get(f"{asgi_server}/api/v1/resources/")
    assert directives(response.headers["Content-Security-Policy"])["default-src"] == ["'self'"]


@pytest.mark.django_db
def test_the_room_page_allows_camera_and_microphone_for_its_own_origin():
    start = timezone.now() - dt.timedelta(minutes=1)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30), mode="video")
    browser = Client()
    browser.force_login(booking.client)
    response = browser.get(f"/sessions/{booking.pk}/")
    assert response.status_code == 200
    policy = response.headers["Permissions-Policy"]
    assert "camera=(self)" in policy and "microphone=(self)" in policy


@pytest.mark.django_db
def test_the_rooms_thread_fragment_allows_no_camera():
    start = timezone.now() - dt.timedelta(minutes=1)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    browser = Client()
    browser.force_login(booking.client)
    response = browser.get(f"/sessions/{booking.pk}/thread/")
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_production_sends_hsts_over_https(production_server):
    response = httpx.get(f"{production_server}/healthz/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


def test_production_sends_the_content_security_policy(production_server):
    response = httpx.get(f"{production_server}/healthz/", headers={"X-Forwarded-Proto": "https"})
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_production_redirects_plain_http_to_https(production_server):
    response = httpx.get(f"{production_server}/help/")
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")


# Templates must not bring scripts the policy refuses: no inline <script> (a `src`, or data
# such as json_script's application/json, is fine) and no on*= handler attributes.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.IGNORECASE
)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def _templates() -> list[Path]:
    roots = [Path(d) for t in settings.TEMPLATES for d in t["DIRS"]]
    roots += [Path(settings.BASE_DIR) / app / "templates" for app in ("core", "accounts")]
    return [p for root in roots if root.exists() for p in root.rglob("*.html")]


def test_no_template_has_an_inline_script():
    found = [str(p) for p in _templates() if INLINE_SCRIPT.search(p.read_text())]
    assert not found, f"inline <script> (move it to a static file): {found}"


def test_no_template_has_an_inline_event_handler():
    found = [str(p) for p in _templates() if HANDLER.search(p.read_text())]
    assert not found, f"on*= handlers (use addEventListener in a static file): {found}"


def test_the_api_docs_page_runs_no_inline_script(asgi_server):
    response = httpx.get(f"{asgi_server}/api/docs/")
    assert response.status_code == 200
    assert not INLINE_SCRIPT.search(response.text)
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', response.text).group(1)
    assert httpx.get(f"{asgi_server}{script.replace('&amp;', '&')}").status_code == 200
