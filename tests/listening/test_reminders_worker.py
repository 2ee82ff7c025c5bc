"""Reminders are sent exactly once across a worker killed mid-send and restarted: a real
Celery worker subprocess on Redis and the test database, e-mails written by a (slow)
file-based backend so they can be counted."""

import collections
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Notice
from config.celery import app
from listening.models import Reminder
from tests.conftest import database_url_for_tests, wait_for
from tests.factories import BookingFactory, ReminderFactory

ROOT = Path(__file__).resolve().parents[2]
BOOKINGS = 15  # two participants each: 30 reminders
SLOW_SECONDS = 0.3


def _namespace() -> str:
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-reminders"


def _start_worker(tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Its own Celery queue and cache namespace (config/settings/test.py derives them).
        "PYTEST_XDIST_WORKER": _namespace(),
        "PIANKE_TEST_EMAIL_BACKEND": "tests.listening.reminder_mail.SlowFileBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SLOW_MAIL_MARKER": str(tmp_path / "begun.log"),
        "SLOW_MAIL_SECONDS": str(SLOW_SECONDS),
        "REMINDER_LEASE_SECONDS": "2",
        "PIANKE_SITE_URL": "http://pianke.test",
    }
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - the worker's, closed with it
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )


def _send_due() -> None:
    """What the beat does every 30 s, to the subprocess's queue."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        app.send_task(
            "listening.tasks.reminders_send_due", queue=f"pianke-test-{_namespace()}-celery"
        )
    finally:
        app.conf.task_always_eager = eager


def _begun(tmp_path: Path) -> int:
    marker = tmp_path / "begun.log"
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def _message_ids(tmp_path: Path) -> collections.Counter:
    ids: collections.Counter = collections.Counter()
    for path in (tmp_path / "mail").glob("*"):
        ids.update(re.findall(r"^Message-ID: (\S+)$", path.read_text(), flags=re.MULTILINE))
    return ids


def _sent() -> int:
    return Reminder.objects.filter(status=Reminder.Status.SENT).count()


@pytest.mark.django_db(transaction=True)
def test_reminders_are_sent_exactly_once_across_a_worker_kill_and_restart(tmp_path):
    now = timezone.now()
    reminders = []
    for i in range(BOOKINGS):
        booking = BookingFactory(start=now + dt.timedelta(minutes=30 + 15 * i))
        for recipient in (booking.client, booking.counselor.user):
            reminders.append(
                ReminderFactory(
                    booking=booking, recipient=recipient, due_at=now - dt.timedelta(minutes=1)
                )
            )
    (tmp_path / "mail").mkdir()

    worker = _start_worker(tmp_path)
    try:
        _send_due()
        # Kill it in the middle of a send: the sixth e-mail has begun and is not written yet.
        wait_for(lambda: _begun(tmp_path) >= 6, timeout=60, interval=0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    sent_before = _sent()
    assert 0 < sent_before < len(reminders), "the kill came before or after the sending"
    in_flight = list(Reminder.objects.filter(status=Reminder.Status.SENDING))
    assert len(in_flight) == 1  # claimed, its e-mail begun, its transaction killed

    worker = _start_worker(tmp_path)
    try:
        deadline = time.monotonic() + 90
        while _sent() < len(reminders) and time.monotonic() < deadline:
            _send_due()  # the beat's tick; a row left `sending` is taken back after its lease
            time.sleep(1)
        assert _sent() == len(reminders)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()

    expected = {f"<reminder-{r.pk}-{r.booking_id}-{r.sequence}@pianke.test>" for r in reminders}
    ids = _message_ids(tmp_path)
    assert set(ids) == expected  # none lost
    assert set(ids.values()) == {1}  # none repeated
    # One notice per reminder, none for the killed attempt (its transaction rolled back).
    assert sorted(Notice.objects.values_list("user_id", flat=True)) == sorted(
        r.recipient_id for r in reminders
    )
    for row in Reminder.objects.all():
        assert sorted(row.channels) == ["email", "in_page"]
    # The one being sent at the kill was claimed again after its lease; it was begun twice
    # and written once.
    assert Reminder.objects.get(pk=in_flight[0].pk).attempts == 2
    assert _begun(tmp_path) == len(reminders) + 1
