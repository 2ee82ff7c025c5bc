"""GET resources/: the public referral directory, filtered by kind, region and language."""

import datetime as dt

import pytest

from ethics.models import Resource
from tests.ethics.test_escalation_support import directory  # the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("directory")]

URL = "/api/v1/resources/"


def rows(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def resource(**kwargs) -> Resource:
    defaults = {
        "kind": "book",
        "name": "Feeling Good",
        "region": "global",
        "language": "en",
        "source": "publisher",
        "last_verified": dt.date(2026, 1, 1),
    }
    return Resource.objects.create(**{**defaults, **kwargs})


def test_chinese_hotlines_for_anyone(anon):
    response = anon.get(URL, {"kind": "hotline", "region": "CN", "language": "zh"})
    assert response.status_code == 200
    found = rows(response)
    assert "12356" in [r["contact"] for r in found]
    assert {(r["kind"], r["region"], r["language"]) for r in found} == {("hotline", "CN", "zh")}
    assert len(found) == 4
    assert {
        "id",
        "kind",
        "name",
        "region",
        "language",
        "contact",
        "hours",
        "description",
        "source",
        "last_verified",
    } <= set(found[0])


def test_filters_narrow_by_region_and_language(anon):
    [samaritans] = rows(anon.get(URL, {"kind": "hotline", "region": "GB"}))
    assert (samaritans["name"], samaritans["contact"]) == ("Samaritans", "116 123")
    assert rows(anon.get(URL, {"kind": "hotline", "region": "GB", "language": "zh"})) == []
    assert {r["region"] for r in rows(anon.get(URL, {"region": "HK"}))} == {"HK"}


def test_kind_filter_and_inactive_entries(anon, as_client):
    book = resource()
    resource(name="Out of print", is_active=False)
    group = resource(kind="support-group", name="Peer group", region="CN", language="zh")
    books = rows(anon.get(URL, {"kind": "book", "page_size": 100}))
    assert book.pk in [r["id"] for r in books] and {r["kind"] for r in books} == {"book"}
    assert [
        r["id"] for r in rows(as_client.get(URL, {"kind": "support-group", "region": "CN"}))
    ] == [group.pk]
    everything = rows(anon.get(URL, {"page_size": 100}))
    assert "Out of print" not in [r["name"] for r in everything]
    assert {"hotline", "book", "support-group"} <= {r["kind"] for r in everything}


@pytest.mark.parametrize("kind", ["hotlines", "therapy", "HOTLINE"])
def test_bad_kind_is_400(kind, anon):
    response = anon.get(URL, {"kind": kind})
    assert response.status_code == 400
    assert "kind" in response.json()
