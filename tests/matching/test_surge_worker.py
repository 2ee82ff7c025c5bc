"""Surge call-ups through a real Celery worker on Redis: declaring commits the call rows (the
outbox) and a task sends each once; the beat sweeper re-drives calls a lost task left pending,
and running the sender again sends nothing twice."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notice
from matching import services, tasks
from matching.models import Surge, SurgeCall
from tests.conftest import api_as, wait_for
from tests.factories import CounselorProfileFactory, StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def body() -> dict:
    return {
        "region": "HK",
        "languages": ["yue"],
        "banner_en": "Typhoon: counselors are standing by.",
        "banner_zh": "台风期间，咨询师随时在线。",
        "ends_at": (timezone.now() + dt.timedelta(days=1)).isoformat(),
    }


def all_sent(surge_id: int) -> bool:
    calls = SurgeCall.objects.filter(surge_id=surge_id)
    return calls.exists() and not calls.filter(status="pending").exists()


def test_declaring_sends_each_matching_reserve_counselor_one_call(celery_worker_on_redis):
    called = [CounselorProfileFactory(reserve_pool=True, languages=["yue"]) for _ in range(2)]
    CounselorProfileFactory(reserve_pool=False, languages=["yue"])
    CounselorProfileFactory(reserve_pool=True, languages=["en"])
    mail.outbox.clear()
    response = api_as(StaffFactory()).post("/api/v1/surges/", body(), format="json")
    assert response.status_code == 201
    surge_id = response.json()["id"]
    wait_for(lambda: all_sent(surge_id), timeout=15)
    # The sender runs twice more (a redelivered task, the beat sweeper): nothing is sent again.
    tasks.surge_calls_send.delay(surge_id)
    tasks.surge_calls_sweep.delay()
    # A marker queued behind them (the worker's solo pool takes tasks in order): once its one
    # call is sent, the two repeats have run.
    marker = CounselorProfileFactory(reserve_pool=True, languages=["ko"])
    marker_surge = services.surge_declare(
        actor=StaffFactory(),
        **{**body(), "languages": ["ko"], "ends_at": timezone.now() + dt.timedelta(hours=1)},
    )
    wait_for(lambda: all_sent(marker_surge.pk), timeout=15)
    expected = [c.user.email for c in called] + [marker.user.email]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(expected)
    assert Notice.objects.filter(kind="surge_call").count() == 3


def test_the_sweeper_sends_calls_a_lost_task_left_pending(celery_worker_on_redis):
    reserve = CounselorProfileFactory(reserve_pool=True)
    surge = Surge.objects.create(  # as if declared while the broker was down: rows, no task
        region="HK",
        languages=["zh"],
        banner_en="b",
        banner_zh="b",
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=1),
        declared_by=StaffFactory(),
        created_at=timezone.now(),
    )
    SurgeCall.objects.create(surge=surge, counselor=reserve, created_at=timezone.now())
    mail.outbox.clear()
    tasks.surge_calls_sweep.delay()
    wait_for(lambda: all_sent(surge.pk), timeout=15)
    assert services.surge_calls_send() == 0
    assert [m.to for m in mail.outbox] == [[reserve.user.email]]
