"""Nothing anyone wrote reaches the logs. A realistic flow runs against a served app (uvicorn)
and a real Celery worker, both subprocesses logging everything at DEBUG as JSON lines: an
intake, a booking with a topic and a note, chat in the session room over a real websocket
(both sides, and a crisis-level message that raises an alert the worker delivers), an async
message, a counselor's private note, a raised crisis with its note and a talk-now request
with a note. A secret phrase is in every free-text field; it must appear in no log line of
either process."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx
import pytest
import websockets
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from ethics.models import CrisisAlert
from intake.consent import CURRENT_VERSION
from listening.models import Booking, SessionMessage
from tests.celery_subprocess import purge_queue, start_worker, stop_worker, worker_namespace
from tests.conftest import database_url_for_tests, seed_reference_data, stop_server, wait_for
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)
from tests.ops.conftest import json_lines, start_logged_server

pytestmark = pytest.mark.django_db(transaction=True)

# Plain ASCII, so that neither JSON escaping nor a log's encoding could hide it from the search.
SECRET = "quokka-marmalade-4471"
CRISIS = f"I want to kill myself tonight {SECRET}"
# A Celery queue and cache namespace of its own: what the worker leaves queued reaches no other.
NAMESPACE = worker_namespace("ops-secrecy")
DEBUG_ENV = {
    "LOG_LEVEL": "DEBUG",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "PYTEST_XDIST_WORKER": NAMESPACE,
}


def token_headers(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


@pytest.fixture
def logged_processes(transactional_db, tmp_path):
    """(base_url, server_log, worker_log): uvicorn and a Celery worker at DEBUG, JSON lines."""
    seed_reference_data()
    database_url = database_url_for_tests()
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    worker = start_worker(
        NAMESPACE,
        worker_log,
        extra_env={**DEBUG_ENV, "LOG_FORMAT": "json"},
        loglevel="DEBUG",
        ready=True,
    )
    server, base = start_logged_server(database_url, server_log, DEBUG_ENV)
    try:
        yield base, server_log, worker_log
    finally:
        stop_server(server)
        stop_worker(worker)
        purge_queue(NAMESPACE)


async def _room(base: str, booking: Booking, client_h: dict, counselor_h: dict) -> None:
    url = base.replace("http://", "ws://") + f"/ws/sessions/{booking.pk}/"

    def connect(hdrs):
        return websockets.connect(url, additional_headers=hdrs, origin="http://localhost")

    async def next_of(ws, kind):
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == kind:
                return frame

    def chat(text):
        return json.dumps({"type": "chat.message", "id": str(uuid.uuid4()), "text": text})

    async with connect(client_h) as client:
        await next_of(client, "session.config")
        async with connect(counselor_h) as counselor:
            await next_of(counselor, "session.config")
            await client.send(chat(f"hello, {SECRET}"))
            await next_of(counselor, "chat.message")
            await counselor.send(chat(f"I am listening, {SECRET}"))
            await next_of(client, "chat.message")
            await client.send(chat(CRISIS))
            await next_of(counselor, "chat.message")


def _counselor_note(base: str, booking: Booking) -> int:
    """The counselor's private note, saved through the room page (session cookie + CSRF)."""
    browser = Client()
    browser.force_login(booking.counselor.user)
    cookies = {"sessionid": browser.cookies["sessionid"].value}
    with httpx.Client(base_url=base, cookies=cookies) as page:
        assert page.get(f"/sessions/{booking.pk}/").status_code == 200
        response = page.post(
            f"/sessions/{booking.pk}/notes/",
            data={"text": f"private note: {SECRET}", "revision": "0"},
            headers={"X-CSRFToken": page.cookies["csrftoken"]},
        )
    return response.status_code


def _succeeded(log, task_name: str) -> bool:
    return any(
        e.get("task_name") == task_name and "succeeded" in e["message"] for e in json_lines(log)
    )


def test_no_free_text_reaches_the_logs_of_the_web_process_or_the_worker(logged_processes):
    base, server_log, worker_log = logged_processes
    profile = CounselorProfileFactory()
    window = OneOffWindowFactory(counselor=profile, start=next_quarter(days=1))
    newcomer = ClientFactory(intake=False)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    live = BookingFactory(
        counselor=profile, start=start, end=start + dt.timedelta(minutes=30), topic="stress"
    )
    client_h, counselor_h = token_headers(live.client), token_headers(profile.user)

    with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as api:
        intake = api.post(
            "/intake/",
            json={
                "consent_version": CURRENT_VERSION,
                "topic": SECRET,
                "distress": 6,
                "phq4": [2, 2, 1, 1],
                "item9": 0,
            },
            headers=token_headers(newcomer),
        )
        assert intake.status_code in (200, 201), intake.text
        booking = api.post(
            "/bookings/",
            json={
                "counselor": profile.pk,
                "start": window.start.isoformat(),
                "duration_minutes": 30,
                "mode": "text",
                "topic": f"topic {SECRET}",
                "note": f"booking note {SECRET}",
            },
            headers=token_headers(newcomer),
        )
        assert booking.status_code == 201, booking.text
        message = api.post(
            f"/bookings/{live.pk}/messages/",
            json={"text": f"async {SECRET}"},
            headers=client_h,
        )
        assert message.status_code == 201, message.text

        asyncio.run(_room(base, live, client_h, counselor_h))
        assert _counselor_note(base, live) == 302

        raised = api.post(
            "/crisis/raise/",
            json={"booking": live.pk, "note": f"worried {SECRET}"},
            headers=counselor_h,
        )
        assert raised.status_code in (200, 201), raised.text
        talk_now = api.post(
            "/match-requests/",
            json={
                "topic": "anxiety",
                "mode": "text",
                "language": "en",
                "duration_minutes": 15,
                "when": "now",
                "note": f"talk now {SECRET}",
            },
            headers=token_headers(ClientFactory()),
        )
        assert talk_now.status_code == 202, talk_now.text
        cancel = api.post(
            f"/bookings/{booking.json()['id']}/cancel/",
            json={"reason": f"cancelled {SECRET}"},
            headers=token_headers(newcomer),
        )
        assert cancel.status_code == 200, cancel.text

    # The worker has done its part: the alert delivered, the round run, the cancel told.
    wait_for(lambda: CrisisAlert.objects.filter(booking=live, notified_at__isnull=False).exists())
    wait_for(lambda: Booking.objects.filter(cancel_notified_at__isnull=False).exists())
    wait_for(lambda: _succeeded(worker_log, "matching.tasks.match_request"))
    assert SessionMessage.objects.filter(booking=live).count() == 4

    for log in (server_log, worker_log):
        text = log.read_text(errors="replace")
        assert SECRET.lower() not in text.lower(), f"{log.name} carries the secret"
    # The search saw real logs: both processes wrote JSON lines at DEBUG, with request ids.
    server_lines, worker_lines = json_lines(server_log), json_lines(worker_log)
    assert any(e["level"] == "DEBUG" for e in server_lines)
    assert any(e["level"] == "DEBUG" for e in worker_lines)
    assert any(e.get("task_name") == "ethics.tasks.alert_notify" for e in worker_lines)
    assert any(e.get("request_id") for e in worker_lines)
