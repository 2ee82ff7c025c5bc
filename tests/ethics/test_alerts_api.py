"""The crisis API: the on-call queue, acknowledge and resolve, a counselor raising a crisis by
hand, and the crisis resources shown in the page when a client's async message carries a signal."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from ethics.models import CrisisAlert, EthicsFlag
from tests.conftest import api_as
from tests.ethics.test_escalation_support import (
    HIGH_EN,
    HIGH_ZH,
    SupervisorFactory,
    bare_alert,
    directory,  # the fixture
    soon_booking,
)
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/crisis/alerts/"
RAISE = "/api/v1/crisis/raise/"


@pytest.fixture
def supervisor(db):
    return SupervisorFactory()


@pytest.fixture
def as_supervisor(supervisor):
    return api_as(supervisor)


def results(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def fresh(alert) -> CrisisAlert:
    return CrisisAlert.objects.get(pk=alert.pk)


# --- The crisis resources in the page ----------------------------------------------------------------


def _post_message(booking, sender, text):
    return api_as(sender).post(
        f"/api/v1/bookings/{booking.pk}/messages/", {"text": text}, format="json"
    )


def test_client_sees_chinese_hotlines_in_the_page(directory):
    booking = soon_booking(
        client=ClientFactory(timezone="Asia/Shanghai", language=User.Language.ZH_HANS)
    )
    response = _post_message(booking, booking.client, HIGH_ZH)
    assert response.status_code == 201, response.json()
    hotlines = response.json()["crisis_resources"]["hotlines"]
    assert hotlines[0]["contact"] == "12356"
    assert {"name", "contact", "hours", "region", "language", "description"} <= set(hotlines[0])
    assert CrisisAlert.objects.filter(booking=booking, source="message").count() == 1


def test_london_client_sees_samaritans_first(directory):
    booking = soon_booking(
        client=ClientFactory(timezone="Europe/London", language=User.Language.EN)
    )
    response = _post_message(booking, booking.client, HIGH_EN)
    assert response.status_code == 201
    first = response.json()["crisis_resources"]["hotlines"][0]
    assert (first["name"], first["contact"], first["region"]) == ("Samaritans", "116 123", "GB")


def test_no_resources_in_the_page_without_a_signal_or_for_the_counselor(directory):
    booking = soon_booking()
    calm = _post_message(booking, booking.client, "see you tomorrow")
    assert calm.status_code == 201 and "crisis_resources" not in calm.json()
    from_counselor = _post_message(booking, booking.counselor.user, HIGH_EN)
    assert from_counselor.status_code == 201 and "crisis_resources" not in from_counselor.json()
    assert CrisisAlert.objects.filter(booking=booking).count() == 1  # still recorded for the client


def test_resending_the_same_message_does_not_count_twice(directory):
    booking = soon_booking()
    body = {"id": "6f1d5a52-3c1e-4b9f-9e7a-0d7e2c3b4a11", "text": HIGH_EN}
    first = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", body, format="json"
    )
    again = api_as(booking.client).post(
        f"/api/v1/bookings/{booking.pk}/messages/", body, format="json"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert CrisisAlert.objects.get(booking=booking).signal_count == 1


# --- The queue ------------------------------------------------------------------------------------


def test_queue_is_ordered_by_severity_then_age(as_supervisor):
    now = timezone.now()
    low_old = bare_alert(BookingFactory(), severity=CrisisAlert.Severity.LOW, minutes_ago=30)
    high_new = bare_alert(BookingFactory(), minutes_ago=1)
    high_old = bare_alert(BookingFactory(), minutes_ago=10)
    high_older_acknowledged = bare_alert(
        BookingFactory(), minutes_ago=20, status="acknowledged", acknowledged_at=now
    )
    response = as_supervisor.get(ALERTS)
    assert response.status_code == 200
    rows = results(response)
    assert [r["id"] for r in rows] == [
        high_older_acknowledged.pk,
        high_old.pk,
        high_new.pk,
        low_old.pk,
    ]
    assert [r["severity"] for r in rows] == ["High", "High", "High", "Low"]
    opened = results(as_supervisor.get(ALERTS, {"status": "open"}))
    assert [r["id"] for r in opened] == [high_old.pk, high_new.pk, low_old.pk]


def test_staff_may_read_the_queue(as_staff):
    alert = bare_alert(BookingFactory())
    response = as_staff.get(ALERTS)
    assert response.status_code == 200
    [row] = results(response)
    assert row["id"] == alert.pk and row["status"] == "open" and row["booking"] == alert.booking_id


@pytest.mark.parametrize("who, code", [("anon", 401), ("client", 403), ("counselor", 403)])
def test_queue_is_for_supervisors_and_staff_only(who, code, anon, as_client, as_counselor):
    bare_alert(BookingFactory())
    api = {"anon": anon, "client": as_client, "counselor": as_counselor}[who]
    assert api.get(ALERTS).status_code == code


# --- Acknowledge ---------------------------------------------------------------------------------


def test_acknowledge_then_twice_is_409(as_supervisor, supervisor):
    alert = bare_alert(BookingFactory())
    response = as_supervisor.post(
        f"{ALERTS}{alert.pk}/acknowledge/", {"note": "calling now"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["acknowledged_by"], body["outcome_note"]) == (
        "acknowledged",
        supervisor.pk,
        "calling now",
    )
    assert body["acknowledged_at"] is not None
    again = api_as(StaffFactory()).post(f"{ALERTS}{alert.pk}/acknowledge/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "not_open"
    state = fresh(alert)
    assert state.acknowledged_by == supervisor and state.outcome_note == "calling now"


def test_acknowledge_without_a_note(as_staff, staff_user):
    alert = bare_alert(BookingFactory())
    response = as_staff.post(f"{ALERTS}{alert.pk}/acknowledge/")
    assert response.status_code == 200
    assert fresh(alert).acknowledged_by == staff_user


@pytest.mark.parametrize("who, code", [("anon", 401), ("client", 403), ("counselor", 403)])
def test_only_responders_acknowledge_or_resolve(who, code, anon, as_client, as_counselor):
    alert = bare_alert(BookingFactory())
    api = {"anon": anon, "client": as_client, "counselor": as_counselor}[who]
    assert api.post(f"{ALERTS}{alert.pk}/acknowledge/", {}, format="json").status_code == code
    assert (
        api.post(
            f"{ALERTS}{alert.pk}/resolve/", {"outcome": "contacted", "note": "x"}, format="json"
        ).status_code
        == code
    )
    assert fresh(alert).status == "open"


def test_unknown_alert_is_404(as_supervisor):
    assert as_supervisor.post(f"{ALERTS}987654/acknowledge/", {}, format="json").status_code == 404
    assert (
        as_supervisor.post(
            f"{ALERTS}987654/resolve/", {"outcome": "contacted", "note": "x"}, format="json"
        ).status_code
        == 404
    )


# --- Resolve ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["contacted", "emergency-services", "referred", "false-alarm"])
def test_resolve_with_each_outcome(outcome, as_supervisor, supervisor):
    alert = bare_alert(
        BookingFactory(),
        status="acknowledged",
        acknowledged_at=timezone.now(),
        acknowledged_by=StaffFactory(),
    )
    response = as_supervisor.post(
        f"{ALERTS}{alert.pk}/resolve/",
        {"outcome": outcome, "note": "spoke for 20 min"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["outcome"], body["outcome_note"], body["resolved_by"]) == (
        "resolved",
        outcome,
        "spoke for 20 min",
        supervisor.pk,
    )
    assert body["resolved_at"] is not None
    state = fresh(alert)
    assert state.acknowledged_by != supervisor  # the acknowledgement stays whose it was


def test_resolving_an_open_alert_acknowledges_it_too(as_supervisor, supervisor):
    alert = bare_alert(BookingFactory())
    response = as_supervisor.post(
        f"{ALERTS}{alert.pk}/resolve/",
        {"outcome": "false-alarm", "note": "song lyrics"},
        format="json",
    )
    assert response.status_code == 200
    state = fresh(alert)
    assert (state.status, state.acknowledged_by, state.resolved_by) == (
        "resolved",
        supervisor,
        supervisor,
    )
    assert state.acknowledged_at is not None
    again = as_supervisor.post(
        f"{ALERTS}{alert.pk}/resolve/", {"outcome": "contacted", "note": "again"}, format="json"
    )
    assert again.status_code == 409
    assert (
        as_supervisor.post(f"{ALERTS}{alert.pk}/acknowledge/", {}, format="json").status_code == 409
    )
    assert fresh(alert).outcome == "false-alarm"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"note": "called her"}, "outcome"),
        ({"outcome": "fixed", "note": "called her"}, "outcome"),
        ({"outcome": "", "note": "called her"}, "outcome"),
        ({"outcome": "contacted"}, "note"),
        ({"outcome": "contacted", "note": ""}, "note"),
        ({"outcome": "contacted", "note": "   "}, "note"),
    ],
)
def test_resolve_needs_an_outcome_and_a_note(body, field, as_supervisor):
    alert = bare_alert(BookingFactory())
    response = as_supervisor.post(f"{ALERTS}{alert.pk}/resolve/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    state = fresh(alert)  # nothing changed
    assert (
        state.status,
        state.outcome,
        state.outcome_note,
        state.acknowledged_at,
        state.resolved_at,
    ) == ("open", "", "", None, None)


# --- A counselor raises a crisis by hand --------------------------------------------------------------


def test_counselor_raises_a_crisis_on_their_own_booking(counselor, as_counselor):
    booking = BookingFactory(counselor=counselor)
    response = as_counselor.post(
        RAISE, {"booking": booking.pk, "note": "she described a plan"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["booking"], body["client"], body["status"], body["note"]) == (
        "counselor",
        booking.pk,
        booking.client_id,
        "open",
        "she described a plan",
    )
    alert = CrisisAlert.objects.get(pk=body["id"])
    assert alert.raised_by == counselor.user
    assert EthicsFlag.objects.get(alert=alert).kind == "crisis"


def test_raising_twice_joins_the_open_alert(counselor, as_counselor):
    booking = BookingFactory(counselor=counselor)
    first = as_counselor.post(RAISE, {"booking": booking.pk, "note": "first"}, format="json").json()
    second = as_counselor.post(RAISE, {"booking": booking.pk, "note": "worse now"}, format="json")
    assert second.status_code == 201
    assert second.json()["id"] == first["id"] and second.json()["signal_count"] == 2
    assert CrisisAlert.objects.filter(booking=booking).count() == 1
    assert fresh(CrisisAlert(pk=first["id"])).note == "first\nworse now"


def test_counselor_cannot_raise_on_someone_elses_booking(as_counselor):
    booking = BookingFactory(counselor=CounselorProfileFactory())
    response = as_counselor.post(RAISE, {"booking": booking.pk, "note": "?"}, format="json")
    assert response.status_code == 404
    assert (
        as_counselor.post(RAISE, {"booking": 987654, "note": "?"}, format="json").status_code == 404
    )
    assert not CrisisAlert.objects.exists() and not EthicsFlag.objects.exists()


@pytest.mark.parametrize("who, code", [("anon", 401), ("client", 403), ("staff", 403)])
def test_only_counselors_raise(who, code, anon, counselor):
    booking = BookingFactory(counselor=counselor)
    api = {"anon": anon, "client": api_as(booking.client), "staff": api_as(StaffFactory())}[who]
    assert api.post(RAISE, {"booking": booking.pk, "note": "x"}, format="json").status_code == code
    assert not CrisisAlert.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"note": "x"}, "booking"),
        ({"booking": 1}, "note"),
        ({"booking": "abc", "note": "x"}, "booking"),
    ],
)
def test_raise_validates_its_body(body, field, counselor, as_counselor):
    response = as_counselor.post(RAISE, body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_sweeper_leaves_alerts_alone_once_acknowledged_through_the_api(as_supervisor):
    from ethics.services import alerts_sweep

    alert = bare_alert(
        BookingFactory(), minutes_ago=10, notified_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert (
        as_supervisor.post(f"{ALERTS}{alert.pk}/acknowledge/", {}, format="json").status_code == 200
    )
    assert alerts_sweep() == 0
    assert fresh(alert).escalation_level == 0
