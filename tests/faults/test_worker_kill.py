"""A Celery worker killed with SIGKILL while it is in the middle of crisis escalation, matching
and reminders at once, then started again.

The worker (a subprocess, threads pool, three at a time, on a queue of its own) is given the
beat's three sweeps together: crisis alerts whose whole ladder is due (notify, then the 2- and
5-minute escalations, each an e-mail), due session reminders (an e-mail each), and talk-now
matching with two offers past their time. E-mails are slow (a file backend that waits), and
the test holds one match request's row lock, so the expiry of its offer stops half done,
inside its transaction. The kill comes once alert and reminder e-mails are being sent and the
matching transaction is waiting on that lock.

After a restart, the sweeps run again, as the beat would. Every crisis alert must then have
been notified and escalated to the end, with its e-mails sent; every reminder sent exactly
once; every match request matched or no_match, none matched twice."""

from __future__ import annotations

import collections
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from django.utils import timezone

from ethics.models import CrisisAlert
from listening.models import Booking, Reminder
from matching import services as matching
from matching.models import MatchRequest, Offer, Presence
from tests.celery_subprocess import (
    kill_worker,
    purge_queue,
    send_to,
    start_worker,
    stop_worker,
    worker_namespace,
)
from tests.conftest import wait_for
from tests.factories import BookingFactory, ClientFactory, ReminderFactory, StaffFactory
from tests.faults.conftest import pg_connect
from tests.matching.helpers import on_duty

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

ALERTS = 8  # three e-mails each: notify, escalation 1, escalation 2
REMINDER_BOOKINGS = 8  # two reminders each
COUNSELORS = 3
REQUESTS = 6  # more than the counselors: some must end no_match
SWEEPS = (
    "ethics.tasks.alerts_sweep",
    "listening.tasks.reminders_send_due",
    "matching.tasks.matching_sweep",
)
STEP_SUBJECTS = {
    "please acknowledge": 0,
    "NOT acknowledged after 2 minutes": 1,
    "OVERDUE": 2,
}


def worker_env(tmp_path: Path) -> dict:
    return {
        "PIANKE_TEST_EMAIL_BACKEND": "tests.faults.mail.SlowFileBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SLOW_MAIL_MARKER": str(tmp_path / "begun.log"),
        "SLOW_MAIL_SECONDS": "0.3",
        # Reminders are sent one after another by one task: slow enough that they are still
        # going when the matching sweep reaches the held row (16 take 16 s), so the kill
        # always lands in the middle of them too.
        "SLOW_MAIL_SECONDS_REMINDER": "1.0",
        "REMINDER_LEASE_SECONDS": "2",
        "PIANKE_SITE_URL": "http://pianke.test",
    }


def begun(tmp_path: Path) -> collections.Counter:
    marker = tmp_path / "begun.log"
    return collections.Counter(marker.read_text().split() if marker.exists() else [])


def sent_mail(tmp_path: Path) -> list[str]:
    messages = []
    for path in (tmp_path / "mail").glob("*"):
        messages += [m for m in path.read_text().split("-" * 79) if "Subject:" in m]
    return messages


def alert_steps(messages: list[str]) -> collections.Counter:
    """(alert id, ladder step) -> e-mails sent for it."""
    steps: collections.Counter = collections.Counter()
    for message in messages:
        alert = re.search(r"^Crisis alert (\d+):", message, flags=re.MULTILINE)
        subject = re.search(r"^Subject: (.*)$", message, flags=re.MULTILINE).group(1)
        if alert:
            step = next(s for text, s in STEP_SUBJECTS.items() if text in subject)
            steps[(int(alert.group(1)), step)] += 1
    return steps


def reminder_ids(messages: list[str]) -> collections.Counter:
    ids: collections.Counter = collections.Counter()
    for message in messages:
        ids.update(re.findall(r"^Message-ID: (<reminder-\S+>)$", message, flags=re.MULTILINE))
    return ids


def blocked_by(monitor, holder) -> int | None:
    row = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
        [holder.info.backend_pid],
    ).fetchone()
    return row[0] if row else None


def backend_alive(monitor, pid: int) -> bool:
    return bool(monitor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())


def accept_pending_offers() -> int:
    """The counselors accept every offer still open to them (as from their dashboards)."""
    accepted = 0
    for offer in Offer.objects.filter(
        status=Offer.Status.PENDING, expires_at__gt=timezone.now()
    ).select_related("counselor__user"):
        matching.offer_accept(counselor=offer.counselor.user, offer_id=offer.pk)
        accepted += 1
    return accepted


def heartbeat(counselors) -> None:
    Presence.objects.filter(pk__in=[c.pk for c in counselors]).update(last_seen_at=timezone.now())


def test_worker_killed_mid_escalation_matching_and_reminders_loses_nothing(
    tmp_path, django_db_blocker
):
    now = timezone.now()
    StaffFactory(email="on-call@example.org")  # nobody on shift: all staff are told
    alerts = [
        CrisisAlert.objects.create(  # the row is the outbox, as if its tasks were lost
            client=ClientFactory(),
            source=CrisisAlert.Source.INTAKE,
            reasons=["fault-test"],
            created_at=now - dt.timedelta(minutes=6),  # the whole ladder is due
        )
        for _ in range(ALERTS)
    ]
    reminders = []
    for i in range(REMINDER_BOOKINGS):
        booking = BookingFactory(start=now + dt.timedelta(minutes=30 + 15 * i))
        for recipient in (booking.client, booking.counselor.user):
            reminders.append(
                ReminderFactory(
                    booking=booking, recipient=recipient, due_at=now - dt.timedelta(minutes=1)
                )
            )
    counselors = [on_duty() for _ in range(COUNSELORS)]
    requests = [
        MatchRequest.objects.create(  # as if their match_request tasks were lost
            client=ClientFactory(),
            topic="anxiety",
            mode="text",
            language="zh",
            duration_minutes=15,
            when="now",
            created_at=now,
            deadline_at=now + dt.timedelta(minutes=10),
        )
        for _ in range(REQUESTS)
    ]
    (tmp_path / "mail").mkdir()
    namespace = worker_namespace("faults-worker")
    env = worker_env(tmp_path)
    log = tmp_path / "worker.log"

    worker = start_worker(namespace, log, extra_env=env, pool="threads", concurrency=3)
    try:
        # A first round offers one request to each counselor; one of them accepts.
        send_to(namespace, "matching.tasks.matching_sweep")
        wait_for(
            lambda: Offer.objects.filter(status=Offer.Status.PENDING).count() == COUNSELORS,
            timeout=60,
        )
        first = Offer.objects.filter(status=Offer.Status.PENDING).order_by("pk").first()
        matching.offer_accept(counselor=first.counselor.user, offer_id=first.pk)
        # The other two offers are past their 45 seconds; the sweep will time them out.
        stale = list(Offer.objects.filter(status=Offer.Status.PENDING).order_by("pk"))
        Offer.objects.filter(pk__in=[o.pk for o in stale]).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        with (
            pg_connect(django_db_blocker) as holder,
            pg_connect(django_db_blocker, autocommit=True) as monitor,
        ):
            # Hold the row of the last stale offer's request: its expiry stops half done.
            holder.execute(
                f"SELECT 1 FROM {MatchRequest._meta.db_table} WHERE id = %s FOR UPDATE",
                [stale[-1].request_id],
            )
            for task in SWEEPS:
                send_to(namespace, task)

            def all_three_in_flight():
                mail = begun(tmp_path)
                return mail["alert"] >= 2 and mail["reminder"] >= 2 and blocked_by(monitor, holder)

            wait_for(all_three_in_flight, timeout=60, interval=0.01)
            stuck = blocked_by(monitor, holder)
            kill_worker(worker)
            at_kill = begun(tmp_path)
            holder.rollback()
            # The killed worker's backend was waiting on a lock, so it learns of its client's
            # death only now: wait for it to roll back and go.
            wait_for(lambda: not backend_alive(monitor, stuck), timeout=30)
    finally:
        stop_worker(worker)

    # The kill came in the middle of all three.
    assert CrisisAlert.objects.filter(escalation_level__lt=2).exists()
    assert Reminder.objects.exclude(status=Reminder.Status.SENT).exists()
    assert Offer.objects.filter(pk=stale[-1].pk, status=Offer.Status.PENDING).exists()

    unfinished = {
        "alerts": CrisisAlert.objects.filter(escalation_level__lt=2).count(),
        "reminders": Reminder.objects.exclude(status=Reminder.Status.SENT).count(),
    }
    restarted = time.monotonic()
    worker = start_worker(namespace, log, extra_env=env, pool="threads", concurrency=3)
    try:
        deadline = time.monotonic() + 90
        closing = False
        while time.monotonic() < deadline:
            heartbeat(counselors)
            for task in SWEEPS:  # the beat's ticks
                send_to(namespace, task)
            time.sleep(1)
            accept_pending_offers()
            busy = Booking.objects.filter(counselor__in=counselors).count()
            if (
                not closing
                and busy == COUNSELORS
                and not Offer.objects.filter(status=Offer.Status.PENDING)
            ):
                # Every counselor is in a session: the rest wait until their deadline.
                MatchRequest.objects.filter(status__in=MatchRequest.OPEN).update(
                    deadline_at=timezone.now()
                )
                closing = True
            done = (
                not MatchRequest.objects.filter(status__in=MatchRequest.OPEN).exists()
                and not CrisisAlert.objects.filter(escalation_level__lt=2).exists()
                and not Reminder.objects.exclude(status=Reminder.Status.SENT).exists()
            )
            if done:
                break
    finally:
        recovered = time.monotonic() - restarted
        stop_worker(worker)
        purge_queue(namespace)

    messages = sent_mail(tmp_path)
    print(  # the figures docs/operations.md quotes (pytest -s shows them)
        f"worker kill: e-mails begun at the kill {dict(at_kill)}, unfinished {unfinished},"
        f" all done {recovered:.1f}s after the restart (worker start included),"
        f" alert e-mails {len(alert_steps(messages))} steps /"
        f" {sum(alert_steps(messages).values())} sent,"
        f" requests {dict(collections.Counter(MatchRequest.objects.values_list('status', flat=True)))}"
    )
    # Every crisis alert was notified and escalated to the end, each step's e-mail sent (a step
    # cut off after its e-mail and before its commit is sent again: at least once, by design).
    steps = alert_steps(messages)
    for alert in CrisisAlert.objects.filter(pk__in=[a.pk for a in alerts]):
        assert alert.notified_at is not None and alert.nobody_on_shift
        assert alert.escalation_level == 2 and alert.overdue
        for step in STEP_SUBJECTS.values():
            assert steps[(alert.pk, step)] >= 1, (alert.pk, step)
    # Every reminder sent, each exactly once.
    ids = reminder_ids(messages)
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == len(reminders)
    assert set(ids) == {
        f"<reminder-{r.pk}-{r.booking_id}-{r.sequence}@pianke.test>" for r in reminders
    }
    assert set(ids.values()) == {1}
    # Every match request matched or no_match; none matched twice.
    statuses = collections.Counter(
        MatchRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list(
            "status", flat=True
        )
    )
    assert set(statuses) <= {MatchRequest.Status.MATCHED, MatchRequest.Status.NO_MATCH}
    assert statuses[MatchRequest.Status.MATCHED] == COUNSELORS
    for request in MatchRequest.objects.filter(pk__in=[r.pk for r in requests]):
        accepted = Offer.objects.filter(request=request, status=Offer.Status.ACCEPTED).count()
        if request.status == MatchRequest.Status.MATCHED:
            assert accepted == 1 and request.booking is not None
            assert Booking.objects.filter(client=request.client).count() == 1
        else:
            assert accepted == 0 and request.booking_id is None
            assert not Booking.objects.filter(client=request.client).exists()
    assert not Offer.objects.filter(status=Offer.Status.PENDING).exists()
