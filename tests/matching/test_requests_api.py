"""`match-requests/`: asking for a counselor, now or in a window; bad input changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from ethics.models import CrisisAlert
from matching.models import MatchRequest
from tests.conftest import api_as
from tests.factories import ClientFactory
from tests.matching.helpers import talk_now

pytestmark = pytest.mark.django_db

URL = "/api/v1/match-requests/"


def test_client_gets_202_pending_for_a_talk_now_request(as_client):
    response = as_client.post(URL, talk_now(), format="json")
    assert response.status_code == 202, response.data
    assert response.data["status"] == "pending"
    assert response.data["when"] == "now"
    assert MatchRequest.objects.get(pk=response.data["id"]).deadline_at > timezone.now()


def test_client_reads_own_request(as_client):
    created = as_client.post(URL, talk_now(), format="json").data
    response = as_client.get(f"{URL}{created['id']}/")
    assert response.status_code == 200
    assert set(response.data) >= {"status", "booking", "suggestions"}
    assert response.data["booking"] is None


def test_other_client_gets_404_for_a_request(as_client, as_other_client):
    created = as_client.post(URL, talk_now(), format="json").data
    assert as_other_client.get(f"{URL}{created['id']}/").status_code == 404


def test_anonymous_gets_401(anon):
    assert anon.post(URL, talk_now(), format="json").status_code == 401


def test_counselor_gets_403(as_counselor):
    assert as_counselor.post(URL, talk_now(), format="json").status_code == 403


def test_client_without_intake_gets_409_intake_required(db):
    response = api_as(ClientFactory(intake=False)).post(URL, talk_now(), format="json")
    assert response.status_code == 409
    assert response.data["code"] == "intake_required"
    assert not MatchRequest.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("topic", "astrology"),
        ("mode", "telepathy"),
        ("language", "xx"),
        ("duration_minutes", 20),
        ("when", "later"),
        ("when", {"earliest": "2026-01-01T10:00:00"}),
    ],
)
def test_bad_field_gets_400_naming_it_and_nothing_is_created(as_client, field, value):
    response = as_client.post(URL, talk_now(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.data
    assert not MatchRequest.objects.exists()


def test_window_with_latest_before_earliest_gets_400(as_client):
    now = timezone.now()
    when = {
        "earliest": (now + dt.timedelta(days=2)).isoformat(),
        "latest": (now + dt.timedelta(days=1)).isoformat(),
    }
    response = as_client.post(URL, talk_now(when=when), format="json")
    assert response.status_code == 400
    assert "when" in response.data


def test_naive_window_times_get_400(as_client):
    response = as_client.post(
        URL,
        talk_now(when={"earliest": "2030-01-01T10:00", "latest": "2030-01-01T12:00"}),
        format="json",
    )
    assert response.status_code == 400 and "when" in response.data


def test_second_open_talk_now_request_gets_409(as_client):
    assert as_client.post(URL, talk_now(), format="json").status_code == 202
    response = as_client.post(URL, talk_now(), format="json")
    assert response.status_code == 409
    assert response.data["code"] == "request_open"
    assert MatchRequest.objects.count() == 1


def test_cancelled_request_can_be_followed_by_a_new_one(as_client):
    first = as_client.post(URL, talk_now(), format="json").data
    assert as_client.post(f"{URL}{first['id']}/cancel/").data["status"] == "cancelled"
    assert as_client.post(URL, talk_now(), format="json").status_code == 202


def test_cancelling_a_closed_request_gets_409(as_client):
    first = as_client.post(URL, talk_now(), format="json").data
    as_client.post(f"{URL}{first['id']}/cancel/")
    assert as_client.post(f"{URL}{first['id']}/cancel/").status_code == 409


def test_note_is_stored_encrypted(as_client):
    created = as_client.post(URL, talk_now(note="my manager shouts at me"), format="json").data
    stored = bytes(MatchRequest.objects.get(pk=created["id"]).note_ciphertext)
    assert b"manager" not in stored and stored


def test_high_risk_note_raises_a_crisis_alert_and_returns_hotlines(as_client, client_user):
    created = as_client.post(
        URL, talk_now(note="I have been saving up pills to end my life"), format="json"
    ).data
    alert = CrisisAlert.objects.get(client=client_user)
    assert alert.source == CrisisAlert.Source.MATCH_NOTE
    assert MatchRequest.objects.get(pk=created["id"]).risk == "high"
    assert created["hotlines"], "a risky note shows the crisis lines at once"


def test_everyday_hyperbole_raises_no_alert(as_client):
    created = as_client.post(
        URL, talk_now(note="this exam is killing me, 累死了"), format="json"
    ).data
    assert not CrisisAlert.objects.exists()
    assert created["hotlines"] == []


def test_client_lists_own_requests_only(as_client, as_other_client):
    as_client.post(URL, talk_now(), format="json")
    as_other_client.post(URL, talk_now(), format="json")
    assert as_client.get(URL).data["count"] == 1


@pytest.mark.parametrize(
    "given, stored", [("zh-hans", "zh"), ("en-GB", "en"), ("zh-HK", "yue"), ("ZH", "zh")]
)
def test_regional_language_tags_are_read_as_session_languages(as_client, given, stored):
    created = as_client.post(URL, talk_now(language=given), format="json").data
    assert MatchRequest.objects.get(pk=created["id"]).language == stored
