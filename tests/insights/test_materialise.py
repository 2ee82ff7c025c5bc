"""The nightly run: rebuilt whole and atomically, idempotent, claimed by one worker at a time,
and run by a real Celery worker as beat sends it."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from config.settings.base import CELERY_BEAT_SCHEDULE
from insights.models import DutySample, InsightsRun, OfferFact, SessionFact
from insights.services import duty_sample_record, insights_materialise
from listening.models import Booking
from matching.models import Offer, Presence
from tests.celery_subprocess import send_to, start_worker, stop_worker, worker_namespace
from tests.conftest import wait_for
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.insights.scenes import BASE, completed, talk_now


def test_beat_runs_the_rebuild_nightly_and_the_duty_sample_each_minute():
    assert (
        CELERY_BEAT_SCHEDULE["insights-materialise"]["task"]
        == "insights.tasks.insights_materialise"
    )
    assert CELERY_BEAT_SCHEDULE["insights-duty-sample"]["schedule"] == 60.0


@pytest.mark.django_db
def test_a_second_run_gives_the_same_facts(counselor):
    for i, client in enumerate(ClientFactory.create_batch(3)):
        completed(counselor=counselor, client=client, start=BASE.replace(hour=i))
    insights_materialise()
    first = list(SessionFact.objects.values_list("week", "hour", "topic").order_by("hour"))
    insights_materialise()
    assert list(SessionFact.objects.values_list("week", "hour", "topic").order_by("hour")) == first


@pytest.mark.django_db
def test_a_rebuild_drops_sessions_that_are_gone(counselor):
    booking = completed(counselor=counselor, client=ClientFactory(), start=BASE)
    insights_materialise()
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    run = insights_materialise()
    assert SessionFact.objects.count() == 0 and run.session_facts == 0


@pytest.mark.django_db
def test_each_run_draws_a_new_pseudonym_salt(counselor):
    completed(counselor=counselor, client=ClientFactory(), start=BASE)
    insights_materialise()
    first = SessionFact.objects.get().client_key
    insights_materialise()
    assert SessionFact.objects.get().client_key != first


@pytest.mark.django_db(transaction=True)
def test_a_run_claimed_by_another_worker_is_left_to_it(counselor):
    completed(counselor=counselor, client=ClientFactory(), start=BASE)
    InsightsRun.objects.create(pk=1)
    claimed, release, result = threading.Event(), threading.Event(), {}

    def holder():
        with transaction.atomic():
            InsightsRun.objects.select_for_update().get(pk=1)
            claimed.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    claimed.wait(10)
    try:
        result["run"] = insights_materialise()
    finally:
        release.set()
        thread.join()
    assert result["run"] is None and SessionFact.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_facts_when_beat_sends_the_task(counselor, tmp_path):
    completed(counselor=counselor, client=ClientFactory(), start=BASE)
    namespace = worker_namespace("insights")
    worker = start_worker(namespace, tmp_path / "worker.log", loglevel="INFO", ready=True)
    try:
        send_to(namespace, "insights.tasks.insights_materialise")
        wait_for(
            lambda: InsightsRun.objects.filter(pk=1, built_at__isnull=False).exists(), timeout=30
        )
    finally:
        stop_worker(worker)
    assert SessionFact.objects.count() == 1


@pytest.mark.django_db
def test_the_duty_sample_counts_new_counselors_once_a_minute():
    now = timezone.now()
    veteran, newcomer = CounselorProfileFactory(), CounselorProfileFactory()
    type(veteran).objects.filter(pk=veteran.pk).update(created_at=now - dt.timedelta(days=90))
    for profile in (veteran, newcomer):
        Presence.objects.create(counselor=profile, online=True, last_seen_at=now)
    sample = duty_sample_record(now=now)
    again = duty_sample_record(now=now + dt.timedelta(seconds=1) if now.second < 59 else now)
    assert (sample.on_duty, sample.on_duty_new) == (2, 1)
    assert again.pk == sample.pk and DutySample.objects.count() == 1


@pytest.mark.django_db
def test_exposure_fairness_sets_offers_to_new_counselors_against_their_duty_share(as_staff):
    veteran, newcomer = CounselorProfileFactory(), CounselorProfileFactory()
    type(veteran).objects.filter(pk=veteran.pk).update(created_at=BASE - dt.timedelta(days=90))
    type(newcomer).objects.filter(pk=newcomer.pk).update(created_at=BASE - dt.timedelta(days=5))
    for i, client in enumerate(ClientFactory.create_batch(4)):
        request = talk_now(
            client=client, created_at=BASE + dt.timedelta(hours=i), status="no_match"
        )
        Offer.objects.create(
            request=request,
            counselor=newcomer if i == 0 else veteran,
            status=Offer.Status.EXPIRED,
            score=1.0,
            created_at=request.created_at,
            expires_at=request.created_at + dt.timedelta(seconds=30),
        )
    DutySample.objects.create(taken_at=BASE, on_duty=2, on_duty_new=1)
    insights_materialise()
    assert OfferFact.objects.get(new_counselor=True).offers == 1
    rows = as_staff.get("/api/v1/insights/", {"from": "2026-05-25", "to": "2026-06-07"}).json()
    new = rows["tables"]["exposure_fairness"]["rows"][0]["cells"][0]
    assert (new["offer_share"], new["duty_share"]) == (0.25, 0.5)
