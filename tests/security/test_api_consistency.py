"""One vocabulary of session languages in every input (core.sessions.session_language_from),
and the intake that carries its consent version (intake.services.intake_submit)."""

from __future__ import annotations

import pytest

from accounts.models import ConsentRecord
from core.sessions import SESSION_LANGUAGE_HELP, session_language_from
from counselors.models import CounselorProfile
from intake.consent import CURRENT_VERSION
from tests.conftest import api_as
from tests.factories import ClientFactory

ME = "/api/v1/counselors/me/"
INTAKE = "/api/v1/intake/"
ANSWERS = {
    "consent_version": CURRENT_VERSION,
    "topic": "work stress",
    "distress": 5,
    "phq4": [1, 1, 1, 0],
    "item9": 0,
}


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh", "zh"),
        ("zh-hans", "zh"),
        ("zh-Hans", "zh"),
        ("zh-Hans-CN", "zh"),
        ("zh_CN", "zh"),
        ("cmn", "zh"),
        ("zh-HK", "yue"),
        ("zh-Hant-HK", "yue"),
        ("zh-yue", "yue"),
        ("yue", "yue"),
        ("en-GB", "en"),
        (" EN ", "en"),
        ("ja-JP", "ja"),
    ],
)
def test_a_language_tag_is_read_as_its_session_language(tag, language):
    assert session_language_from(tag) == language


@pytest.mark.parametrize("tag", ["", "xx", "klingon", "zz-hans"])
def test_an_unknown_language_is_refused(tag):
    with pytest.raises(ValueError, match="Unknown language"):
        session_language_from(tag)


@pytest.mark.parametrize(
    ("languages", "stored"),
    [
        (["zh-hans"], ["zh"]),
        (["zh-Hans", "en-GB"], ["zh", "en"]),
        (["zh-HK"], ["yue"]),
        (["zh", "zh-hans", "en"], ["zh", "en"]),
    ],
)
def test_counselors_me_accepts_the_account_language_codes(as_counselor, languages, stored):
    response = as_counselor.patch(ME, {"languages": languages}, format="json")
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["languages"]) == sorted(stored)


def test_counselors_me_names_the_field_of_an_unknown_language(as_counselor, counselor):
    response = as_counselor.patch(ME, {"languages": ["zh", "xx"]}, format="json")
    assert response.status_code == 400
    assert "languages" in response.json()
    assert CounselorProfile.objects.get(pk=counselor.pk).languages == ["zh", "en"]


def test_match_requests_accept_the_same_tags(as_client, client_user):
    body = {
        "topic": "anxiety",
        "mode": "text",
        "language": "zh-Hans",
        "duration_minutes": 15,
        "when": "now",
    }
    response = as_client.post("/api/v1/match-requests/", body, format="json")
    assert response.status_code == 202, response.json()
    assert client_user.match_requests.get().language == "zh"


def test_the_directory_filter_accepts_the_same_tags(anon, counselor):
    response = anon.get("/api/v1/counselors/", {"language": "zh-hans"})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [counselor.pk]


def test_the_directory_filter_refuses_an_unknown_language(anon, counselor):
    response = anon.get("/api/v1/counselors/", {"language": "xx"})
    assert response.status_code == 400
    assert "language" in response.json()


def test_the_continuity_query_accepts_the_same_tags(as_client):
    response = as_client.get("/api/v1/talk-now/continuity/", {"language": "en-GB"})
    assert response.status_code == 200


def test_the_schema_documents_the_vocabulary(anon):
    schema = anon.get("/api/schema/", {"format": "json"}).content.decode()
    assert SESSION_LANGUAGE_HELP.split(".")[1].strip() in schema


# --- the intake and its consent ------------------------------------------------------------


@pytest.fixture
def newcomer(db):
    return ClientFactory(username="nora", intake=False, language="en")


def test_the_intake_records_the_agreement_as_consent_does(newcomer):
    assert api_as(newcomer).post(INTAKE, ANSWERS, format="json").status_code == 201
    record = ConsentRecord.objects.get(user=newcomer)
    other = ClientFactory(username="olga", intake=False, language="en")
    api_as(other).post("/api/v1/consent/", {"version": CURRENT_VERSION}, format="json")
    alike = ConsentRecord.objects.get(user=other)
    assert (record.version, record.language, record.withdrawn_at) == (
        alike.version,
        alike.language,
        alike.withdrawn_at,
    )
    assert record.agreed_at is not None
    assert newcomer.intakes.get().consent_id == record.pk


def test_an_intake_under_a_standing_consent_records_no_second_agreement(client_user):
    assert api_as(client_user).post(INTAKE, ANSWERS, format="json").status_code == 201
    assert ConsentRecord.objects.filter(user=client_user).count() == 1


def test_an_intake_with_another_consent_version_is_400_and_records_nothing(newcomer):
    response = api_as(newcomer).post(
        INTAKE, {**ANSWERS, "consent_version": "2000-01"}, format="json"
    )
    assert response.status_code == 400
    assert "consent_version" in response.json()
    assert not ConsentRecord.objects.filter(user=newcomer).exists()


def test_after_a_withdrawal_the_intake_says_which_call_agrees_again(newcomer):
    api = api_as(newcomer)
    api.post("/api/v1/consent/", {"version": CURRENT_VERSION}, format="json")
    api.post("/api/v1/consent/withdraw/")
    response = api.post(INTAKE, ANSWERS, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "consent_required"
    assert "POST /api/v1/consent/" in response.json()["detail"]
    assert not ConsentRecord.objects.filter(user=newcomer, withdrawn_at__isnull=True).exists()


def test_the_intake_page_still_asks_for_the_consent_on_its_own_page(newcomer, client):
    client.force_login(newcomer)
    response = client.post(
        "/intake/",
        {"consent_version": CURRENT_VERSION, "topic": "work", "distress": 5},
    )
    assert response.status_code == 302 and response["Location"].startswith("/consent/")
    assert not ConsentRecord.objects.filter(user=newcomer).exists()
