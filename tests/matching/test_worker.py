"""Matching through a real Celery worker on Redis: the round runs on commit, offers time out by
eta task, requests end as no_match at their deadline, the sweep recovers lost tasks, and
concurrent rounds never offer one request or one counselor twice."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from matching import services, tasks
from matching.models import MatchRequest, Offer
from tests.conftest import api_as, wait_for
from tests.factories import ClientFactory
from tests.matching.helpers import on_duty, talk_now

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_request_is_offered_then_times_out_then_ends_as_no_match(celery_worker_on_redis, settings):
    settings.MATCHING_OFFER_SECONDS = 1
    settings.MATCHING_NO_MATCH_SECONDS = 4
    counselor = on_duty()
    created = (
        api_as(ClientFactory()).post("/api/v1/match-requests/", talk_now(), format="json").data
    )
    offer = wait_for(lambda: Offer.objects.filter(request_id=created["id"]).first(), timeout=10)
    assert offer.counselor_id == counselor.pk
    wait_for(lambda: Offer.objects.get(pk=offer.pk).status == "expired", timeout=10)
    request = wait_for(
        lambda: MatchRequest.objects.filter(pk=created["id"], status="no_match").first(), timeout=15
    )
    assert request.closed_at is not None


def test_accepting_through_the_api_while_the_worker_runs(celery_worker_on_redis):
    counselor = on_duty()
    client = ClientFactory()
    created = api_as(client).post("/api/v1/match-requests/", talk_now(), format="json").data
    offer = wait_for(
        lambda: Offer.objects.filter(request_id=created["id"], status="pending").first(), timeout=10
    )
    assert api_as(counselor.user).post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 200
    view = api_as(client).get(f"/api/v1/match-requests/{created['id']}/").data
    assert view["status"] == "matched" and view["booking"]


def test_the_sweep_offers_a_request_whose_task_was_lost(celery_worker_on_redis):
    counselor = on_duty()
    request = MatchRequest.objects.create(  # as if its match_request task never reached the broker
        client=ClientFactory(),
        topic="anxiety",
        mode="text",
        language="zh",
        duration_minutes=15,
        when="now",
        created_at=timezone.now(),
        deadline_at=timezone.now() + dt.timedelta(minutes=3),
    )
    tasks.matching_sweep.delay()
    offer = wait_for(lambda: Offer.objects.filter(request=request).first(), timeout=10)
    assert offer.counselor_id == counselor.pk


def test_concurrent_rounds_never_double_offer():
    counselors = [on_duty() for _ in range(6)]
    requests = [
        services.match_request_create(
            client=ClientFactory(), topic="anxiety", mode="text", language="zh", duration_minutes=15
        )
        for _ in range(10)
    ]
    errors = []

    def run():
        try:
            for _ in range(3):
                services.matching_round()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pending = Offer.objects.filter(status="pending")
    assert pending.count() == len(counselors)  # every counselor busy with exactly one offer
    assert len(set(pending.values_list("counselor_id", flat=True))) == len(counselors)
    assert len(set(pending.values_list("request_id", flat=True))) == len(counselors)
    assert MatchRequest.objects.filter(status="offered").count() == len(counselors)
    assert len(requests) == 10


def test_a_broker_outage_does_not_fail_the_request_and_the_sweep_recovers_it(monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr(tasks.match_request, "apply_async", broker_down)
    monkeypatch.setattr(tasks.match_request_deadline, "apply_async", broker_down)
    counselor = on_duty()
    response = api_as(ClientFactory()).post("/api/v1/match-requests/", talk_now(), format="json")
    assert response.status_code == 202
    assert not Offer.objects.exists()
    services.matching_sweep()
    assert Offer.objects.get(request_id=response.data["id"]).counselor_id == counselor.pk
