"""A PostgreSQL connection dropped in the middle of a booking, on a served app.

The test holds the counselor's profile row lock from a second connection, so the server's
booking request is caught waiting for it (`booking_create` locks that row first), then
terminates that request's backend with `pg_terminate_backend`, as a failover or an
administrator would. The client must get 503 with `Retry-After` (not 500), no booking and no
reminder rows may be left, and the same server must book on the next try."""

from __future__ import annotations

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.test import Client as DjangoClient
from rest_framework.authtoken.models import Token

from counselors.models import CounselorProfile
from listening.models import Booking, Reminder
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)
from tests.faults.conftest import FAULT_SERVER_APP_NAME, pg_connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene():
    """A client and a counselor with a free window tomorrow: (client, counselor, start)."""
    client = ClientFactory()
    counselor = CounselorProfileFactory()
    start = next_quarter(days=1).replace(minute=0)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=3))
    return client, counselor, start


def booking_body(counselor, start) -> dict:
    return {
        "counselor": counselor.pk,
        "start": start.isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "exam stress",
    }


def token_headers(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def lock_profile_row(holder, counselor) -> None:
    """Open a transaction on `holder` that holds the counselor's profile row lock."""
    table = CounselorProfile._meta.db_table
    column = CounselorProfile._meta.pk.column
    holder.execute(f"SELECT 1 FROM {table} WHERE {column} = %s FOR UPDATE", [counselor.pk])


def waiting_backend(monitor, holder, timeout: float = 30.0) -> int:
    """The pid of the backend waiting for `holder`'s lock (the server's booking request)."""
    holder_pid = holder.info.backend_pid
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [holder_pid],
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the booking request never waited for the row lock")


def drop_connection_mid_request(django_db_blocker, counselor, send):
    """Run `send()` (an HTTP request that books with `counselor`) in a thread while this
    test holds the profile row lock; terminate the server's backend once it waits for the lock,
    then release the lock. Returns the response."""
    with (
        pg_connect(django_db_blocker) as holder,
        pg_connect(django_db_blocker, autocommit=True) as monitor,
        ThreadPoolExecutor(1) as pool,
    ):
        lock_profile_row(holder, counselor)
        pending = pool.submit(send)
        try:
            pid = waiting_backend(monitor, holder)
            killed = monitor.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
            assert killed
            response = pending.result(timeout=30)
        finally:
            holder.rollback()
    return response


def test_api_booking_gets_503_with_retry_after_when_its_connection_is_dropped(
    fault_server, scene, django_db_blocker
):
    client, counselor, start = scene
    headers = token_headers(client)
    url = f"{fault_server}/api/v1/bookings/"
    body = booking_body(counselor, start)

    response = drop_connection_mid_request(
        django_db_blocker,
        counselor,
        lambda: httpx.post(url, json=body, headers=headers, timeout=30),
    )

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["code"] == "service_unavailable"
    # Nothing half made: neither the booking nor its reminders.
    assert not Booking.objects.filter(client=client).exists()
    assert not Reminder.objects.filter(recipient=client).exists()


def test_server_books_again_after_a_dropped_connection_without_a_restart(
    fault_server, scene, django_db_blocker
):
    client, counselor, start = scene
    headers = token_headers(client)
    url = f"{fault_server}/api/v1/bookings/"
    body = booking_body(counselor, start)
    dropped = drop_connection_mid_request(
        django_db_blocker,
        counselor,
        lambda: httpx.post(url, json=body, headers=headers, timeout=30),
    )
    assert dropped.status_code == 503

    # The same process: the broken connection was discarded when its request ended.
    retried = httpx.post(url, json=body, headers=headers, timeout=30)
    assert retried.status_code == 201, retried.text
    for _ in range(5):  # and every connection it hands out afterwards works
        assert httpx.get(url, headers=headers, timeout=30).status_code == 200
    booking = Booking.objects.get(client=client)  # exactly one
    assert booking.start == start
    assert (
        Reminder.objects.filter(booking=booking).count()
        == Reminder.objects.filter(recipient__in=[client, counselor.user]).count()
    )


def test_booking_page_gets_503_with_retry_after_when_its_connection_is_dropped(
    fault_server, scene, django_db_blocker
):
    client, counselor, start = scene
    signed_in = DjangoClient()
    signed_in.force_login(client)
    page = f"{fault_server}/counselors/{counselor.pk}/book/"
    with httpx.Client(cookies=dict(signed_in.cookies.items()), timeout=30) as browser:
        browser.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
        form = browser.get(page, params={"start": start.isoformat(), "duration": 30})
        assert form.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        fields = {
            "csrfmiddlewaretoken": token,
            "start": start.isoformat(),
            "duration_minutes": "30",
            "mode": "text",
            "topic": "exam stress",
            "note": "",
        }

        response = drop_connection_mid_request(
            django_db_blocker, counselor, lambda: browser.post(page, data=fields)
        )

        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert "try again" in response.text.lower()
        assert not Booking.objects.filter(client=client).exists()
        # The page books on the next try, from the same server.
        again = browser.post(page, data=fields)
        assert again.status_code == 302, again.text[:500]
    assert Booking.objects.filter(client=client).count() == 1


def test_page_whose_session_lookup_loses_its_connection_gets_503_then_recovers(
    fault_server, scene, django_db_blocker
):
    """Every idle connection of the server's pool is terminated: the next pages fail on their
    first query, the session lookup in a middleware (not in the view), and must be 503s, not
    500s, until the pool has replaced the dead connections; then pages work again."""
    client, _counselor, _start = scene
    signed_in = DjangoClient()
    signed_in.force_login(client)
    page = f"{fault_server}/bookings/"
    with httpx.Client(timeout=30) as browser:
        browser.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
        assert browser.get(page).status_code == 200
        with pg_connect(django_db_blocker, autocommit=True) as monitor:
            killed = monitor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND state = 'idle'",
                [FAULT_SERVER_APP_NAME],
            ).fetchone()[0]
        assert killed >= 1
        failures = []
        deadline = time.monotonic() + 30
        while (response := browser.get(page)).status_code != 200:
            failures.append((response.status_code, response.headers.get("Retry-After")))
            assert time.monotonic() < deadline, failures
        # At most one failed page per dead connection, each a 503 with Retry-After.
        assert len(failures) <= killed
        assert all(status == 503 and retry for status, retry in failures), failures
        for _ in range(5):
            assert browser.get(page).status_code == 200
