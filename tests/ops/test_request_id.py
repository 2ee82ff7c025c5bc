"""The request id (core.request_id, core.logging, config/celery.py): taken from X-Request-ID
or generated, returned, on the request's log lines, and carried into the Celery tasks the
request enqueued, whose lines in a real worker process carry the same id."""

from __future__ import annotations

import io
import json
import logging
import os
import re

import pytest
from django.conf import settings
from django.test import Client

from config.celery import app
from core.logging import ContextFilter, JsonFormatter, request_id_var
from listening.models import Booking
from tests.celery_subprocess import purge_queue, start_worker, stop_worker
from tests.conftest import api_as, database_url_for_tests, wait_for
from tests.factories import BookingFactory
from tests.ops.conftest import json_lines


@pytest.fixture
def captured():
    """The JSON lines the root logger writes meanwhile, through the same filter and formatter
    as settings.LOGGING's handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_generated_one():
    response = Client().get("/healthz/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_two_requests_get_two_ids():
    browser = Client()
    assert browser.get("/healthz/")["X-Request-ID"] != browser.get("/healthz/")["X-Request-ID"]


@pytest.mark.django_db
def test_a_valid_incoming_id_is_returned():
    response = Client().get("/healthz/", HTTP_X_REQUEST_ID="lb-7f3a-0001")
    assert response["X-Request-ID"] == "lb-7f3a-0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["a" * 65, "abc def", 'x"}\n{"level": "CRITICAL', "id_with_underscore", "ünïcode"],
)
def test_an_invalid_incoming_id_is_replaced(incoming):
    response = Client().get("/healthz/", HTTP_X_REQUEST_ID=incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_a_redirect_carries_the_id_too():
    response = Client().get("/account/", HTTP_X_REQUEST_ID="redirected-1")
    assert response.status_code == 302
    assert response["X-Request-ID"] == "redirected-1"


@pytest.mark.django_db
def test_the_requests_log_lines_carry_its_id(captured):
    Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-404-1")
    lines = [e for e in captured() if e["logger"] == "django.request"]
    assert lines and all(e["request_id"] == "req-404-1" for e in lines)


@pytest.mark.django_db
def test_the_id_is_gone_after_the_request(captured):
    Client().get("/healthz/", HTTP_X_REQUEST_ID="req-done-1")
    logging.getLogger("tests.ops").warning("after the request")
    assert captured()[-1]["request_id"] is None


def test_a_json_line_has_the_fixed_keys_in_utc():
    record = logging.LogRecord("pianke.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    ContextFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert set(entry) == {"time", "level", "logger", "message", "request_id"}
    assert entry["message"] == "hello you" and entry["level"] == "WARNING"
    assert entry["time"].endswith("Z")


def test_an_access_line_keeps_the_path_but_not_the_query_string():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/admin/accounts/user/?q=Wang+Fang", "1.1", 200),
        None,
    )
    ContextFilter().filter(record)
    message = json.loads(JsonFormatter().format(record))["message"]
    assert "/admin/accounts/user/" in message and "Wang" not in message


def test_a_traceback_stays_inside_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "pianke.x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exc"]


def test_a_log_line_inside_a_request_context_carries_its_id():
    token = request_id_var.set("ctx-1")
    try:
        record = logging.LogRecord("pianke.x", logging.INFO, __file__, 1, "m", (), None)
        ContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert record.request_id == "ctx-1" and record.task_id is None


@pytest.fixture
def worker_log(transactional_db, tmp_path):
    """A real `celery -A config worker` process writing JSON lines to a file; this process
    enqueues for real (not eagerly) meanwhile."""
    log = tmp_path / "worker.log"
    # This process's own namespace, so the worker takes what this process enqueues.
    namespace = os.environ.get("PYTEST_XDIST_WORKER", "main")
    proc = start_worker(
        namespace, log, extra_env={"LOG_FORMAT": "json"}, loglevel="INFO", ready=True
    )
    app.conf.task_always_eager = False
    try:
        yield log
    finally:
        app.conf.task_always_eager = True
        stop_worker(proc)
        purge_queue(namespace)


def test_the_worker_logs_an_enqueued_task_with_the_requests_id(worker_log):
    booking = BookingFactory()
    response = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/cancel/",
        {"reason": "cannot make it"},
        format="json",
        HTTP_X_REQUEST_ID="cancel-req-42",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "cancel-req-42"

    def task_lines():
        return [
            e
            for e in json_lines(worker_log)
            if e.get("task_name") == "listening.tasks.booking_cancelled_notify"
        ]

    lines = wait_for(lambda: [e for e in task_lines() if "succeeded" in e["message"]])
    assert all(e["request_id"] == "cancel-req-42" for e in task_lines())
    assert lines[0]["task_id"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_notified_at


def test_a_task_enqueued_outside_a_request_has_no_id_in_the_worker(worker_log):
    app.send_task("listening.tasks.session_clock_tick")
    lines = wait_for(
        lambda: [
            e
            for e in json_lines(worker_log)
            if e.get("task_name") == "listening.tasks.session_clock_tick"
            and "succeeded" in e["message"]
        ]
    )
    assert lines[0]["request_id"] is None
