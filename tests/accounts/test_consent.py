"""The separate consent to process health information: versioned, bilingual, withdrawable."""

import datetime as dt

import pytest

from accounts.models import ConsentRecord
from intake.consent import CURRENT_VERSION, TEXTS
from intake.services import consent_agree, intake_current_for
from tests.conftest import api_as
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CONSENT, WITHDRAW, INTAKE = "/api/v1/consent/", "/api/v1/consent/withdraw/", "/api/v1/intake/"
ANSWERS = {
    "consent_version": CURRENT_VERSION,
    "topic": "work stress",
    "distress": 5,
    "phq4": [1, 1, 1, 0],
    "item9": 0,
}


@pytest.fixture
def newcomer():
    return ClientFactory(username="nina", intake=False, language="en")


def booking_body(counselor, hours=0):
    start = counselor.windows.get().start + dt.timedelta(hours=hours)
    return {
        "counselor": counselor.pk,
        "start": start.isoformat(),
        "duration_minutes": 30,
        "mode": "text",
        "topic": "work stress",
    }


def test_anonymous_is_401(anon):
    assert anon.get(CONSENT).status_code == 401
    assert anon.post(CONSENT, {"version": CURRENT_VERSION}, format="json").status_code == 401
    assert anon.post(WITHDRAW).status_code == 401


def test_get_shows_current_version_and_text_in_the_users_language(newcomer):
    body = api_as(newcomer).get(CONSENT).json()
    assert body["version"] == CURRENT_VERSION
    assert body["text"] == TEXTS[CURRENT_VERSION]["en"]
    assert body["agreed"] is False and body["agreed_at"] is None
    for word in ("PHQ-4", "counselor", "supervisor", "logged", "withdraw", "delete"):
        assert word in body["text"]


def test_chinese_text_for_a_chinese_user_or_request(newcomer):
    newcomer.language = "zh-hans"
    newcomer.save()
    body = api_as(newcomer).get(CONSENT).json()
    assert body["language"] == "zh-hans" and body["text"] == TEXTS[CURRENT_VERSION]["zh-hans"]
    newcomer.language = "en"
    newcomer.save()
    body = api_as(newcomer).get(CONSENT, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["text"] == TEXTS[CURRENT_VERSION]["zh-hans"]


def test_counselor_may_read_but_not_agree(as_counselor):
    assert as_counselor.get(CONSENT).status_code == 200
    assert (
        as_counselor.post(CONSENT, {"version": CURRENT_VERSION}, format="json").status_code == 403
    )
    assert as_counselor.post(WITHDRAW).status_code == 403


def test_agreeing_records_version_time_and_language(newcomer):
    api = api_as(newcomer)
    response = api.post(CONSENT, {"version": CURRENT_VERSION}, format="json")
    assert response.status_code == 201
    assert response.json()["agreed"] is True
    record = ConsentRecord.objects.get(user=newcomer)
    assert (record.version, record.language, record.withdrawn_at) == (CURRENT_VERSION, "en", None)
    assert record.agreed_at is not None
    assert api.get(CONSENT).json()["agreed"] is True
    # Agreeing again is the same agreement.
    assert api.post(CONSENT, {"version": CURRENT_VERSION}, format="json").status_code == 200
    assert ConsentRecord.objects.filter(user=newcomer).count() == 1


@pytest.mark.parametrize("version", ["2025-01", "", None])
def test_agreeing_to_another_version_is_400(newcomer, version):
    response = api_as(newcomer).post(CONSENT, {"version": version}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()
    assert not ConsentRecord.objects.filter(user=newcomer).exists()


def test_the_intake_records_the_consent_version_it_carries(newcomer):
    response = api_as(newcomer).post(INTAKE, ANSWERS, format="json")
    assert response.status_code == 201
    assert ConsentRecord.objects.get(user=newcomer).version == CURRENT_VERSION


def test_an_older_version_is_not_enough(newcomer):
    ConsentRecord.objects.create(
        user=newcomer,
        version="2025-01",
        language="en",
        agreed_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
    )
    api = api_as(newcomer)
    assert api.get(CONSENT).json()["agreed"] is False
    assert api.post(INTAKE, ANSWERS, format="json").status_code == 201  # agrees to the current
    assert api.get(CONSENT).json()["agreed"] is True


def test_withdrawal_stops_intake_and_booking_and_says_how_to_delete(counselor):
    user = ClientFactory(username="walt")  # consent and intake on file: may book
    api = api_as(user)
    assert api.post("/api/v1/bookings/", booking_body(counselor), format="json").status_code == 201

    response = api.post(WITHDRAW)
    assert response.status_code == 200
    body = response.json()
    assert body["withdrawn"] is True
    assert "delete your account and data" in body["message"]
    record = ConsentRecord.objects.get(user=user)
    assert record.withdrawn_at is not None
    assert intake_current_for(user) is None
    assert api.get(CONSENT).json()["agreed"] is False

    response = api.post("/api/v1/bookings/", booking_body(counselor, hours=1), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "intake_required"
    assert api.post(INTAKE, ANSWERS, format="json").json()["code"] == "consent_required"

    # Agreeing again is not enough: the old intake went with the old consent.
    assert api.post(CONSENT, {"version": CURRENT_VERSION}, format="json").status_code == 201
    assert (
        api.post("/api/v1/bookings/", booking_body(counselor, hours=1), format="json").status_code
        == 409
    )
    assert api.post(INTAKE, ANSWERS, format="json").status_code == 201
    assert (
        api.post("/api/v1/bookings/", booking_body(counselor, hours=1), format="json").status_code
        == 201
    )
    assert ConsentRecord.objects.filter(user=user).count() == 2


def test_withdrawing_without_consent_is_harmless(newcomer):
    response = api_as(newcomer).post(WITHDRAW)
    assert response.status_code == 200
    assert response.json()["withdrawn"] is False


def test_withdrawal_message_in_chinese(newcomer):
    newcomer.language = "zh-hans"
    newcomer.save()
    consent_agree(user=newcomer, version=CURRENT_VERSION)
    message = api_as(newcomer).post(WITHDRAW).json()["message"]
    assert "删除" in message


def test_every_version_has_both_languages():
    assert CURRENT_VERSION in TEXTS
    for texts in TEXTS.values():
        assert set(texts) == {"en", "zh-hans"} and all(t.strip() for t in texts.values())
