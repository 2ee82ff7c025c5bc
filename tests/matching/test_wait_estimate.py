"""Honest waiting: a talk-now client sees their place in the queue and an estimated wait as a
range, from the counselors on duty who could take the request and recent accept times; above
three minutes the earliest bookable slots and async mode are offered."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from matching import services
from matching.estimate import PRIOR_HIGH, PRIOR_LOW, base_range, estimate_wait
from matching.models import MatchRequest
from matching.selectors import wait_estimate
from tests.conftest import api_as
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
)
from tests.matching.helpers import on_duty, talk_now

pytestmark = pytest.mark.django_db


def ask(client=None, **overrides) -> MatchRequest:
    fields = talk_now(**overrides)
    fields.pop("when")
    return services.match_request_create(client=client or ClientFactory(), **fields)


def queue(n: int, **overrides) -> list[MatchRequest]:
    """n waiting requests, oldest first (created a second apart, so the order is certain)."""
    requests = [ask(**overrides) for _ in range(n)]
    now = timezone.now()
    for i, r in enumerate(requests):
        MatchRequest.objects.filter(pk=r.pk).update(created_at=now - dt.timedelta(seconds=n - i))
        r.refresh_from_db()
    return requests


# --- The method (pure) ---------------------------------------------------------------------


def test_without_history_the_head_of_the_queue_gets_the_prior():
    est = estimate_wait(
        ahead=0, on_duty=1, free=1, session_seconds=900, match_seconds=[], open_low_seconds=180
    )
    assert (est.low_seconds, est.high_seconds) == (PRIOR_LOW, PRIOR_HIGH)


def test_history_pulls_the_range_towards_recent_match_times():
    low, high = base_range([5.0] * 50)
    assert low < PRIOR_LOW and high < PRIOR_HIGH


def test_a_few_matches_are_shrunk_towards_the_prior():
    few_low, _ = base_range([5.0, 5.0])
    many_low, _ = base_range([5.0] * 50)
    assert many_low < few_low < PRIOR_LOW


def test_requests_ahead_beyond_the_free_counselors_widen_the_range():
    short = estimate_wait(
        ahead=0, on_duty=1, free=1, session_seconds=900, match_seconds=[], open_low_seconds=180
    )
    longer = estimate_wait(
        ahead=2, on_duty=1, free=1, session_seconds=900, match_seconds=[], open_low_seconds=180
    )
    assert longer.low_seconds > short.low_seconds and longer.high_seconds > short.high_seconds


def test_nobody_on_duty_has_no_upper_bound():
    est = estimate_wait(
        ahead=0, on_duty=0, free=0, session_seconds=900, match_seconds=[], open_low_seconds=180
    )
    assert est.high_seconds is None and est.low_seconds == 180
    assert est.exceeds(180)


# --- On a seeded queue ---------------------------------------------------------------------


def test_position_follows_the_queue_order():
    on_duty()
    first, second, third = queue(3)
    assert [wait_estimate(request=r)["position"] for r in (first, second, third)] == [1, 2, 3]


def test_a_high_risk_request_is_first_in_the_queue():
    on_duty()
    calm, _other = queue(2)
    urgent = ask(note="I want to kill myself tonight")
    assert urgent.risk == "high"
    assert wait_estimate(request=urgent)["position"] == 1
    assert wait_estimate(request=calm)["position"] == 2


def test_range_grows_with_the_queue():
    on_duty()
    requests = queue(3)
    head, tail = wait_estimate(request=requests[0]), wait_estimate(request=requests[2])
    assert tail["low_seconds"] > head["low_seconds"]
    assert tail["high_seconds"] > head["high_seconds"]


def test_range_shrinks_with_more_counselors_on_duty():
    on_duty()
    requests = queue(3)
    with_one = wait_estimate(request=requests[2])
    on_duty()
    on_duty()
    with_three = wait_estimate(request=requests[2])
    assert with_three["counselors_on_duty"] == 3
    assert with_three["high_seconds"] < with_one["high_seconds"]


def test_only_counselors_who_could_take_the_request_count():
    on_duty(languages=["en"])
    [request] = queue(1, language="zh")
    estimate = wait_estimate(request=request)
    assert estimate["counselors_on_duty"] == 0 and estimate["high_seconds"] is None


def test_a_counselor_in_a_session_is_not_free():
    counselor = on_duty()
    BookingFactory(
        counselor=counselor, start=timezone.now() - dt.timedelta(minutes=5), duration_minutes=15
    )
    [request] = queue(1)
    free = wait_estimate(request=request)
    assert free["counselors_on_duty"] == 1
    assert free["low_seconds"] > PRIOR_LOW  # waits for the session to end


def test_nobody_on_duty_gives_an_open_upper_bound():
    CounselorProfileFactory()
    [request] = queue(1)
    estimate = wait_estimate(request=request)
    assert estimate["high_seconds"] is None
    assert estimate["low_seconds"] == 180
    assert estimate["exceeds_alternatives_threshold"]


def test_a_closed_request_has_no_estimate(client_user):
    request = ask(client_user)
    services.match_request_cancel(client=client_user, request_id=request.pk)
    request.refresh_from_db()
    assert wait_estimate(request=request) is None


# --- The API and the page ------------------------------------------------------------------


def test_detail_shows_position_and_range_without_alternatives_when_short(client_user):
    on_duty()
    request = ask(client_user)
    body = api_as(client_user).get(f"/api/v1/match-requests/{request.pk}/").json()
    assert body["status"] == "pending" and "suggestions" in body and "deadline_at" in body
    assert body["position"] == 1
    assert body["wait_estimate"]["low_seconds"] <= body["wait_estimate"]["high_seconds"] <= 180
    assert body["alternatives"] is None


def test_detail_offers_slots_and_async_when_the_wait_exceeds_three_minutes(client_user):
    listed = CounselorProfileFactory()  # not on duty, with a window tomorrow
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)
    start -= dt.timedelta(minutes=start.minute % 15)
    OneOffWindowFactory(counselor=listed, start=start, end=start + dt.timedelta(hours=2))
    request = ask(client_user)
    body = api_as(client_user).get(f"/api/v1/match-requests/{request.pk}/").json()
    assert body["wait_estimate"]["high_seconds"] is None
    assert body["alternatives"]["async_mode"] is True
    [slot] = body["alternatives"]["earliest_slots"]
    assert slot["counselor"] == listed.pk and slot["topic"] is True


def test_detail_of_a_closed_request_has_no_estimate(client_user):
    request = ask(client_user)
    services.match_request_cancel(client=client_user, request_id=request.pk)
    body = api_as(client_user).get(f"/api/v1/match-requests/{request.pk}/").json()
    assert body["position"] is None and body["wait_estimate"] is None
    assert body["alternatives"] is None and body["continuity"] == []


def test_waiting_page_shows_the_position_and_estimate(client_user):
    on_duty()
    request = ask(client_user)
    browser = Client()
    browser.force_login(client_user)
    html = browser.get(f"/talk-now/{request.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "data-estimate" in html and 'data-position="1"' in html
    assert "data-alternatives" not in html


def test_waiting_page_offers_alternatives_when_nobody_is_on_duty(client_user):
    request = ask(client_user)
    browser = Client()
    browser.force_login(client_user)
    html = browser.get(f"/talk-now/{request.pk}/").content.decode()
    assert "data-alternatives" in html
    assert "mode=async" in html
