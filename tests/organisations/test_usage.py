"""What an organisation's admin sees: its sponsored sessions and topics by month, k-anonymous
(K = 5, with complementary suppression), through GET insights/ and the admin's page; never a
crisis, and nothing of another organisation or of the platform."""

import datetime as dt

import pytest
from django.core import mail

from ethics.models import CrisisAlert
from insights.models import SessionFact
from insights.services import insights_materialise
from organisations.models import AllowanceClaim
from tests.conftest import api_as
from tests.factories import ClientFactory
from tests.insights.scenes import BASE, PERIOD, completed
from tests.organisations.factories import (
    AllowanceFactory,
    MembershipFactory,
    OrganisationAdminFactory,
)

pytestmark = pytest.mark.django_db


def sponsored_session(allowance, client, *, start, topic):
    booking = completed(counselor=allowance.counselor, client=client, start=start, topic=topic)
    booking.allowance_claim = AllowanceClaim.objects.create(
        organisation=allowance.organisation,
        allowance=allowance,
        client=client,
        quarter=dt.date(2026, 4, 1),
        duration_minutes=30,
        mode="text",
    )
    booking.save(update_fields=["allowance_claim"])
    return booking


@pytest.fixture
def scene(counselor):
    """Acme: six members with a 'work stress' session in June, two with 'grief' in June, and
    one member's session in July; plus an unsponsored session of a non-member."""
    allowance = AllowanceFactory(organisation__name="Acme")
    allowance.counselor = counselor
    members = [MembershipFactory(organisation=allowance.organisation).user for _ in range(8)]
    for i, member in enumerate(members[:6]):
        sponsored_session(
            allowance, member, start=BASE + dt.timedelta(hours=i), topic="work stress"
        )
    for i, member in enumerate(members[6:]):
        sponsored_session(
            allowance, member, start=BASE + dt.timedelta(days=1, hours=i), topic="grief"
        )
    sponsored_session(
        allowance, members[0], start=BASE + dt.timedelta(days=35), topic="work stress"
    )
    completed(
        counselor=counselor,
        client=ClientFactory(),
        start=BASE + dt.timedelta(hours=10),
        topic="platform only",
    )
    admin = OrganisationAdminFactory(organisation=allowance.organisation).user
    insights_materialise()
    return allowance, admin, members


def test_the_facts_carry_the_paying_organisation(scene):
    allowance, _admin, _members = scene
    assert SessionFact.objects.filter(organisation_id=allowance.organisation_id).count() == 9
    assert SessionFact.objects.filter(organisation_id__isnull=True).count() == 1


def test_the_admin_gets_sessions_and_topics_by_month_only(scene):
    _allowance, admin, _members = scene
    response = api_as(admin).get("/api/v1/insights/", PERIOD)
    assert response.status_code == 200
    tables = response.json()["tables"]
    assert set(tables) == {"sessions_by_month", "topics_by_month"}
    by_month = {row["label"]: row["cells"][0] for row in tables["sessions_by_month"]["rows"]}
    # July rests on one client: hidden, and June with it (else the total minus June gives it
    # away); the quarter's total of 9 sessions by 8 clients is shown.
    assert by_month["2026-07"] == {"value": None, "suppressed": True}
    assert by_month["2026-06"]["suppressed"] is True
    assert tables["sessions_by_month"]["column_totals"][0] == {"value": 9, "suppressed": False}


def test_a_topic_of_fewer_than_five_clients_is_hidden_with_its_complements(scene):
    _allowance, admin, _members = scene
    table = api_as(admin).get("/api/v1/insights/", PERIOD).json()["tables"]["topics_by_month"]
    rows = {row["label"]: row for row in table["rows"]}
    assert "platform only" not in rows  # another payer's session is not theirs
    # Grief (two clients) is not named: it is one of the "Other topics", hidden there.
    assert "grief" not in rows
    assert rows["Other topics"]["total"]["suppressed"] is True
    june = table["columns"].index("2026-06")
    assert rows["Other topics"]["cells"][june]["suppressed"] is True
    assert rows["work stress"]["total"]["suppressed"] is True  # its complement
    # No line is left with exactly one hidden entry.
    for row in table["rows"]:
        line = [*row["cells"], row["total"]]
        assert sum(1 for entry in line if entry["suppressed"]) != 1


def test_the_admin_of_another_organisation_sees_none_of_it(scene):
    other_admin = OrganisationAdminFactory().user
    tables = api_as(other_admin).get("/api/v1/insights/", PERIOD).json()["tables"]
    assert tables["sessions_by_month"]["rows"] == []
    assert tables["topics_by_month"]["rows"] == []


def test_a_member_who_is_no_admin_gets_403(scene):
    _allowance, _admin, members = scene
    assert api_as(members[0]).get("/api/v1/insights/", PERIOD).status_code == 403


def test_staff_still_get_the_platform_tables(scene, as_staff):
    tables = as_staff.get("/api/v1/insights/", PERIOD).json()["tables"]
    assert "heat_map" in tables and "sessions_by_month" not in tables


def test_the_admin_page_shows_the_code_the_allowance_and_the_tables(scene, client):
    allowance, admin, members = scene
    client.force_login(admin)
    response = client.get("/organisations/manage/", PERIOD)
    page = response.content.decode()
    assert response.status_code == 200
    assert allowance.organisation.join_code in page
    assert 'id="table-sessions_by_month"' in page and 'id="table-topics_by_month"' in page
    for member in members:
        assert member.username not in page


def test_a_bad_period_on_the_admin_page_is_a_400(scene, client):
    _allowance, admin, _members = scene
    client.force_login(admin)
    assert client.get("/organisations/manage/", {"from": "nonsense"}).status_code == 400


def test_a_crisis_in_a_sponsored_session_is_never_reported_to_the_organisation(
    scene, client, django_capture_on_commit_callbacks
):
    from ethics.services import crisis_signal_record

    _allowance, admin, members = scene
    booking = members[0].client_bookings.order_by("start").first()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alert = crisis_signal_record(
            client=members[0],
            source=CrisisAlert.Source.CHAT,
            reasons=["crisis-marker"],
            booking=booking,
        )
    assert alert.pk  # the crisis workflow runs as for any session
    insights_materialise()
    client.force_login(admin)
    answers = [
        api_as(admin).get("/api/v1/insights/", PERIOD).content.decode(),
        client.get("/organisations/manage/", PERIOD).content.decode(),
        client.get("/organisations/mine/").content.decode(),
    ]
    for answer in answers:
        assert "crisis-marker" not in answer
        assert "alert" not in answer.lower()
    assert all(admin.email not in message.to for message in mail.outbox)
