"""The outcome figures, checked on a seeded set with known answers (tests/insights/scenes.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from insights.services import insights_materialise
from tests.conftest import api_as
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.insights.scenes import BASE, PERIOD, completed, seed_outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(counselor):
    seed_outcomes(counselor)
    insights_materialise()
    return counselor


def _total(data: dict, table: str) -> dict:
    return data["tables"][table]["column_totals"][0]


def test_platform_mean_change_and_its_95_percent_interval(seeded, as_staff):
    total = _total(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert (total["mean_change"], total["ci_low"], total["ci_high"]) == (-2.0, -3.48, -0.52)


def test_platform_share_reduced_by_two_or_more(seeded, as_staff):
    total = _total(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert total["reduced_2_share"] == 0.667


def test_platform_response_rate_counts_sessions_without_feedback(seeded, as_staff):
    total = _total(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert (total["value"], total["feedback"], total["response_rate"]) == (7, 6, 0.857)


def test_platform_return_within_30_days(seeded, as_staff):
    total = _total(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert total["return_30d_rate"] == 0.143


def test_referral_acceptance_rate(seeded, as_staff):
    total = _total(as_staff.get("/api/v1/insights/", PERIOD).json(), "outcomes_by_topic")
    assert total["referral_acceptance_rate"] == 0.5


def test_counselor_sees_their_own_figures(seeded, as_counselor):
    data = as_counselor.get("/api/v1/counselors/me/outcomes/", PERIOD).json()
    total = _total(data, "outcomes_by_mode")
    assert (total["mean_change"], total["value"]) == (-2.0, 7)
    assert data["tables"]["change_over_time"]["rows"][0]["label"] == "2026-06"


def test_another_counselor_sees_none_of_them(seeded):
    other = CounselorProfileFactory()
    data = api_as(other.user).get("/api/v1/counselors/me/outcomes/", PERIOD).json()
    assert _total(data, "outcomes_by_topic")["value"] == 0


def test_return_to_the_same_counselor_only_counts_for_that_counselor(counselor, as_counselor):
    other = CounselorProfileFactory()
    for i, client in enumerate(ClientFactory.create_batch(5)):
        completed(counselor=counselor, client=client, start=BASE.replace(hour=i))
        completed(counselor=other, client=client, start=BASE.replace(day=5, hour=i))
    insights_materialise()
    data = as_counselor.get("/api/v1/counselors/me/outcomes/", PERIOD).json()
    assert _total(data, "outcomes_by_topic")["return_30d_rate"] == 0.0


def test_a_session_whose_30_days_are_not_over_is_left_out_of_the_return_rate(counselor, as_staff):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=3)
    for i, client in enumerate(ClientFactory.create_batch(5)):
        completed(counselor=counselor, client=client, start=start + dt.timedelta(hours=i))
    insights_materialise()
    total = _total(as_staff.get("/api/v1/insights/").json(), "outcomes_by_topic")
    assert (total["value"], total["return_30d_rate"]) == (5, None)
