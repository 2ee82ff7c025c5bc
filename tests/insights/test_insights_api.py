"""GET insights/ and counselors/me/outcomes/: who may, bad periods, and the tables."""

import datetime as dt

import pytest

from insights.models import SessionFact
from insights.services import insights_materialise
from tests.factories import ClientFactory, FeedbackFactory
from tests.insights.scenes import BASE, PERIOD, completed, talk_now

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401(anon):
    assert anon.get("/api/v1/insights/").status_code == 401


@pytest.mark.parametrize("persona", ["as_client", "as_counselor"])
def test_other_roles_get_403(persona, request):
    assert request.getfixturevalue(persona).get("/api/v1/insights/").status_code == 403


def test_a_client_may_not_read_counselor_outcomes(as_client, as_staff):
    assert as_client.get("/api/v1/counselors/me/outcomes/").status_code == 403
    assert as_staff.get("/api/v1/counselors/me/outcomes/").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "1899-12-31"}, "from"),
        ({"to": "3000-01-01"}, "to"),
        ({"from": "2026-06-02", "to": "2026-06-01"}, "to"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(as_staff, query, field):
    response = as_staff.get("/api/v1/insights/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_the_default_period_is_the_last_90_days(as_staff):
    data = as_staff.get("/api/v1/insights/").json()
    assert (dt.date.fromisoformat(data["to"]) - dt.date.fromisoformat(data["from"])).days == 89
    assert data["k"] == 5


def test_the_heat_map_counts_requests_by_weekday_and_hour_in_the_platform_zone(as_staff):
    # 02:00 UTC on Monday 1 June is 10:00 in Beijing.
    for client in ClientFactory.create_batch(6):
        talk_now(client=client, created_at=BASE)
    insights_materialise()
    heat = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]["heat_map"]
    monday = heat["rows"][0]
    assert monday["cells"][10] == {"value": 6, "suppressed": False}
    assert monday["total"]["value"] == 6 and heat["grand_total"]["value"] == 6


def test_wait_percentiles_and_the_no_match_rate(as_staff):
    clients = ClientFactory.create_batch(6)
    for i, client in enumerate(clients[:5]):
        talk_now(client=client, created_at=BASE + dt.timedelta(hours=i), wait=10 * (i + 1))
    talk_now(client=clients[5], created_at=BASE, status="no_match")
    insights_materialise()
    total = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]["wait_times"][
        "column_totals"
    ][0]
    assert (total["p50"], total["no_match_rate"], total["matched"]) == (30, 0.167, 5)


def test_a_keyword_needs_five_clients_in_one_language(counselor, as_staff):
    for i, client in enumerate(ClientFactory.create_batch(6)):
        booking = completed(counselor=counselor, client=client, start=BASE.replace(hour=i))
        comment = "最近压力很大" if i % 2 else "So much pressure at work"
        FeedbackFactory(booking=booking, comment=comment + (" 失眠" if i == 0 else ""))
    insights_materialise()
    rows = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]["keywords"]["rows"]
    assert {row["label"] for row in rows} == set()  # 压力 by 3, pressure by 3: neither reaches 5


def test_keywords_reaching_five_clients_appear_with_their_count(counselor, as_staff):
    for i, client in enumerate(ClientFactory.create_batch(5)):
        booking = completed(counselor=counselor, client=client, start=BASE.replace(hour=i))
        FeedbackFactory(
            booking=booking, comment="最近工作压力很大 pressure" + (" 失眠" if i == 0 else "")
        )
    insights_materialise()
    rows = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]["keywords"]["rows"]
    shown = {row["label"]: row["cells"][0] for row in rows}
    assert shown["压力"]["value"] == 5 and shown["pressure"]["language"] == "en"
    assert "失眠" not in shown


def test_facts_keep_no_comment_and_no_client_id(counselor):
    booking = completed(counselor=counselor, client=ClientFactory(), start=BASE)
    FeedbackFactory(booking=booking, comment="My sister Mei")
    insights_materialise()
    fact = SessionFact.objects.get()
    names = {f.name for f in SessionFact._meta.get_fields()}
    assert not names & {"client", "client_id", "booking", "booking_id", "comment"}
    # A 32-hex-digit HMAC, not the id (a substring test would be flaky: hex holds digits).
    assert len(fact.client_key) == 32 and fact.client_key != str(booking.client_id)
