"""The intake before a client's first booking: scoring, validation, the crisis flow, the
gentle pointer to longer-term care, and the booking gate."""

import datetime as dt

import pytest

from accounts.models import Intake
from core.exceptions import Conflict
from ethics.models import CrisisAlert, EthicsFlag, Resource
from intake.consent import CURRENT_VERSION, LONGER_TERM_CARE_MESSAGE
from intake.services import consent_agree, intake_current_for, intake_require, phq4_band
from tests.conftest import api_as
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

INTAKE, BOOKINGS = "/api/v1/intake/", "/api/v1/bookings/"


@pytest.fixture
def newcomer():
    """A client who has agreed to the consent but not yet filled in the intake."""
    user = ClientFactory(username="nina", intake=False, language="en")
    consent_agree(user=user, version=CURRENT_VERSION)
    return user


@pytest.fixture
def api(newcomer):
    return api_as(newcomer)


def answers(**overrides):
    body = {
        "consent_version": CURRENT_VERSION,
        "topic": "work stress",
        "distress": 5,
        "phq4": [1, 1, 1, 0],
        "item9": 0,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def booking_body(counselor, hours=0):
    start = counselor.windows.get().start + dt.timedelta(hours=hours)
    return {
        "counselor": counselor.pk,
        "start": start.isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "work stress",
    }


# --- scoring --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score,band",
    [
        (0, "normal"),
        (2, "normal"),
        (3, "mild"),
        (5, "mild"),
        (6, "moderate"),
        (8, "moderate"),
        (9, "severe"),
        (12, "severe"),
    ],
)
def test_phq4_bands(score, band):
    assert phq4_band(score) == band


@pytest.mark.parametrize(
    "phq4,score,band",
    [
        ([0, 0, 1, 1], 2, "normal"),
        ([1, 0, 1, 1], 3, "mild"),
        ([2, 1, 1, 1], 5, "mild"),
        ([3, 1, 1, 1], 6, "moderate"),
        ([2, 2, 2, 2], 8, "moderate"),
        ([3, 2, 2, 2], 9, "severe"),
        ([3, 3, 3, 3], 12, "severe"),
        ([0, 0, 0, 0], 0, "normal"),
    ],
)
def test_intake_scores_and_bands_at_the_boundaries(api, newcomer, phq4, score, band):
    response = api.post(INTAKE, answers(phq4=phq4), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["phq4_score"], body["band"], body["risk"]) == (score, band, "none")
    intake = Intake.objects.get(user=newcomer)
    assert (intake.phq4, intake.phq4_score, intake.band, intake.distress, intake.item9) == (
        phq4,
        score,
        band,
        5,
        0,
    )
    assert intake.consent.version == CURRENT_VERSION
    assert ("longer_term_care" in body) == (band == "severe")
    assert "crisis_resources" not in body


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"distress": 11}, "distress"),
        ({"distress": -1}, "distress"),
        ({"phq4": [1, 1, 1]}, "phq4"),
        ({"phq4": [1, 1, 1, 1, 1]}, "phq4"),
        ({"phq4": [0, 4, 0, 0]}, "phq4"),
        ({"phq4": [0, -1, 0, 0]}, "phq4"),
        ({"item9": -1}, "item9"),
        ({"item9": 4}, "item9"),
        ({"topic": ""}, "topic"),
        ({"topic": "x" * 121}, "topic"),
        ({"consent_version": "2025-01"}, "consent_version"),
        ({"topic": ...}, "topic"),
        ({"distress": ...}, "distress"),
        ({"phq4": ...}, "phq4"),
        ({"item9": ...}, "item9"),
        ({"consent_version": ...}, "consent_version"),
    ],
)
def test_bad_answers_are_400_naming_the_field(api, newcomer, overrides, field):
    response = api.post(INTAKE, answers(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Intake.objects.filter(user=newcomer).exists()


def test_service_validates_too(newcomer):
    from django.core.exceptions import ValidationError

    from intake.services import intake_submit

    with pytest.raises(ValidationError) as exc:
        intake_submit(
            user=newcomer, consent_version="old", topic=" ", distress=11, phq4=[1, 2], item9=7
        )
    assert set(exc.value.error_dict) == {"consent_version", "topic", "distress", "phq4", "item9"}


def test_anonymous_is_401(anon):
    assert anon.post(INTAKE, answers(), format="json").status_code == 401


def test_counselors_and_staff_are_403(as_counselor, as_staff):
    assert as_counselor.post(INTAKE, answers(), format="json").status_code == 403
    assert as_staff.post(INTAKE, answers(), format="json").status_code == 403
    assert not Intake.objects.exists()


# --- crisis flow and longer-term care -------------------------------------------------------


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_item9_above_zero_starts_the_crisis_flow(api, newcomer, item9):
    response = api.post(INTAKE, answers(item9=item9), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["risk"] == "high"
    alert = CrisisAlert.objects.get(client=newcomer)
    assert (alert.source, alert.booking, alert.status) == ("intake", None, "open")
    assert any("item 9" in r for r in alert.reasons)
    assert EthicsFlag.objects.filter(alert=alert, kind="crisis").exists()
    hotlines = body["crisis_resources"]["hotlines"]
    assert hotlines and all({"name", "contact"} <= set(h) for h in hotlines)
    assert "12356" in {h["contact"] for h in hotlines}  # Asia/Shanghai: the mainland line


def test_item9_zero_raises_no_alert(api, newcomer):
    assert api.post(INTAKE, answers(item9=0), format="json").json()["risk"] == "none"
    assert not CrisisAlert.objects.exists()


def test_a_crisis_topic_is_high_risk_even_with_item9_zero(api, newcomer):
    body = api.post(INTAKE, answers(topic="I want to kill myself"), format="json").json()
    assert body["risk"] == "high"
    alert = CrisisAlert.objects.get(client=newcomer, source="intake")
    assert any(r.startswith("intake topic:") for r in alert.reasons)
    assert "crisis_resources" in body


def test_severe_band_shows_longer_term_care_without_blocking_a_booking(api, newcomer, counselor):
    Resource.objects.create(
        kind="long-term-counseling",
        name="Long-term clinic",
        region="CN",
        language="zh",
        contact="010-1234",
        source="test",
        last_verified=dt.date(2026, 1, 1),
    )
    Resource.objects.create(
        kind="hospital-psychiatry",
        name="City hospital psychiatry",
        region="CN",
        language="zh",
        contact="010-5678",
        source="test",
        last_verified=dt.date(2026, 1, 1),
    )
    Resource.objects.create(
        kind="book",
        name="A book",
        region="CN",
        language="zh",
        source="test",
        last_verified=dt.date(2026, 1, 1),
    )
    response = api.post(INTAKE, answers(phq4=[3, 3, 2, 2]), format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["band"], body["risk"]) == ("severe", "none")
    care = body["longer_term_care"]
    assert care["message"] == LONGER_TERM_CARE_MESSAGE["en"]
    kinds = [r["kind"] for r in care["resources"]]
    # Longer-term care first (the seeded directory's entries and these), then hospital psychiatry.
    first_hotline = kinds.index("hotline")
    assert set(kinds[:first_hotline]) == {"long-term-counseling", "hospital-psychiatry"}
    assert kinds[:first_hotline] == sorted(
        kinds[:first_hotline], key=["long-term-counseling", "hospital-psychiatry"].index
    )
    assert "book" not in kinds and "hotline" in kinds
    assert not CrisisAlert.objects.exists()
    # Not a block: the client can book.
    assert api.post(BOOKINGS, booking_body(counselor), format="json").status_code == 201


def test_longer_term_care_message_in_chinese(newcomer):
    newcomer.language = "zh-hans"
    newcomer.save()
    body = api_as(newcomer).post(INTAKE, answers(phq4=[3, 3, 3, 3]), format="json").json()
    assert body["longer_term_care"]["message"] == LONGER_TERM_CARE_MESSAGE["zh-hans"]
    assert isinstance(body["longer_term_care"]["resources"], list)


# --- the booking gate -----------------------------------------------------------------------


def test_a_registered_client_must_do_consent_and_intake_before_booking(anon, counselor):
    assert (
        anon.post(
            "/api/v1/auth/register/",
            {"username": "reggie", "password": "a-long-pass-phrase-9", "role": "client"},
            format="json",
        ).status_code
        == 201
    )
    token = anon.post(
        "/api/v1/auth/token/",
        {"username": "reggie", "password": "a-long-pass-phrase-9"},
        format="json",
    ).json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = anon.post(BOOKINGS, booking_body(counselor), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "intake_required" and response.json()["detail"]

    version = anon.get("/api/v1/consent/").json()["version"]
    assert anon.post("/api/v1/consent/", {"version": version}, format="json").status_code == 201
    assert (
        anon.post(BOOKINGS, booking_body(counselor), format="json").json()["code"]
        == "intake_required"
    )
    assert anon.post(INTAKE, answers(consent_version=version), format="json").status_code == 201
    response = anon.post(BOOKINGS, booking_body(counselor), format="json")
    assert response.status_code == 201, response.json()


def test_intake_require_and_current(newcomer):
    with pytest.raises(Conflict) as exc:
        intake_require(newcomer)
    assert exc.value.code == "intake_required"
    api_as(newcomer).post(INTAKE, answers(), format="json")
    second = api_as(newcomer).post(INTAKE, answers(distress=2), format="json")
    assert second.status_code == 201
    assert intake_require(newcomer) == intake_current_for(newcomer)
    assert intake_current_for(newcomer).distress == 2  # the latest counts


def test_factory_clients_have_an_intake_unless_asked_not_to():
    assert intake_current_for(ClientFactory()) is not None
    assert intake_current_for(ClientFactory(intake=False)) is None


def test_database_refuses_out_of_range_answers(newcomer):
    from django.db import IntegrityError, transaction

    consent = newcomer.consents.get()
    base = {
        "user": newcomer,
        "consent": consent,
        "topic": "t",
        "distress": 1,
        "phq4_nervous": 0,
        "phq4_worry": 0,
        "phq4_interest": 0,
        "phq4_down": 0,
        "phq4_score": 0,
        "band": "normal",
        "item9": 0,
        "risk": "none",
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    for bad in (
        {"distress": 11},
        {"phq4_worry": 4, "phq4_score": 4},
        {"phq4_score": 3},
        {"item9": 1},
        {"band": "huge"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Intake.objects.create(**{**base, **bad})


def test_demo_client_can_book_and_load_demo_stays_idempotent(settings):
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import ConsentRecord, User

    settings.DEBUG = True
    for _ in range(2):
        call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    demo = User.objects.get(username="demo-client")
    assert intake_current_for(demo) is not None
    assert (
        ConsentRecord.objects.filter(user=demo).count(),
        Intake.objects.filter(user=demo).count(),
    ) == (1, 1)
