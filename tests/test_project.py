"""Project-wide promises: the served API schema, docs without a CDN, deploy checks."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = [
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/me/",
    "/api/v1/specialties/",
    "/api/v1/counselors/",
    "/api/v1/counselors/me/",
    "/api/v1/counselors/{id}/",
    "/api/v1/counselors/{id}/verify/",
    "/api/v1/counselors/me/windows/",
    "/api/v1/counselors/me/windows/{id}/",
    "/api/v1/counselors/{id}/slots/",
    "/api/v1/bookings/",
    "/api/v1/bookings/{id}/",
    "/api/v1/bookings/{id}/cancel/",
    "/api/v1/bookings/{id}/calendar.ics",
]


def test_schema_describes_every_implemented_contract_path(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    missing = [p for p in CONTRACT_PATHS if p not in paths]
    assert not missing


def test_swagger_ui_is_served_without_a_cdn(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html


def test_production_settings_pass_check_deploy():
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 64 + "-prod",
        "ALLOWED_HOSTS": "pianke.example",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PIANKE_SITE_URL": "https://pianke.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_e_mail_links_would_point_at_localhost(settings):
    from core.checks import site_url_deploy_check

    settings.PIANKE_SITE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in site_url_deploy_check(None)] == ["core.W001"]
    settings.PIANKE_SITE_URL = "https://pianke.example"
    assert site_url_deploy_check(None) == []


def test_home_page_names_the_crisis_lines(anon):
    response = anon.get("/")
    assert response.status_code == 200
    assert "12356" in response.content.decode()


def test_home_page_speaks_chinese_when_asked(anon):
    response = anon.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Content-Language"] == "zh-hans"
    assert "倾听" in response.content.decode()


def test_api_errors_are_translated_for_chinese_clients(counselor, client_user):
    from tests.conftest import api_as

    api = api_as(client_user)
    start = counselor.windows.get().start
    body = {
        "counselor": counselor.pk,
        "start": (start + dt.timedelta(hours=5)).isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "t",
    }
    response = api.post("/api/v1/bookings/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    message = response.json()["start"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_check_deploy_refuses_the_published_development_encryption_key():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 64 + "-prod",
        "ALLOWED_HOSTS": "pianke.example",
        "ENCRYPTION_KEYS": "KGmkKos2RO2XvZ-rGU5H-hDBt883zd9GmQIwbE_i78Q=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "listening.E003" in result.stderr


def test_docker_compose_file_has_the_whole_topology():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"postgres", "redis", "web", "worker", "beat", "coturn"} <= set(compose["services"])
    web_env = compose["services"]["web"]["environment"]
    for variable in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ENCRYPTION_KEYS",
        "ICE_SERVERS",
        "TURN_URLS",
        "TURN_SECRET",
    ):
        assert variable in web_env


def test_every_catalog_message_has_a_chinese_translation():
    """UI text is in Simplified Chinese and English: no catalog entry is left empty or fuzzy
    (after `manage.py makemessages -l zh_Hans`, every new msgid gets its msgstr)."""
    from babel.messages.pofile import read_po

    untranslated = []
    for po in sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        if ".venv" in po.parts:
            continue
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_Hans"):
                if not message.id:
                    continue
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if message.fuzzy or not all(strings):
                    untranslated.append(f"{po.relative_to(ROOT)}: {message.id!r}")
    assert untranslated == []
