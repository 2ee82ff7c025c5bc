"""In-page notices: the API (own only, paginated, read and read-all), their text from kind and
params in the reader's language and zone, and the header of every page."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from accounts.models import Notice
from accounts.notices import notice_kind_register, notice_text
from accounts.services import notice_send
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _reminder(user, **kwargs):
    return notice_send(
        user=user,
        kind="reminder_1h",
        params={"booking_id": 1, "start": START.isoformat(), "minutes": 30},
        url="/sessions/1/",
        **kwargs,
    )


def test_my_notices_are_listed_newest_first_with_their_text(client_user, as_client):
    first = notice_send(
        user=client_user, kind="booking_cancelled", params={"start": START.isoformat()}
    )
    second = _reminder(client_user)
    response = as_client.get("/api/v1/notices/")
    assert response.status_code == 200
    assert [n["id"] for n in response.data["results"]] == [second.pk, first.pk]
    assert response.data["results"][0]["url"] == "/sessions/1/"
    # 12:00 UTC is 20:00 in Shanghai, the user's zone.
    assert "2026-03-01 20:00" in response.data["results"][0]["text"]


def test_the_list_is_paginated(client_user, as_client):
    for _ in range(25):
        _reminder(client_user)
    response = as_client.get("/api/v1/notices/")
    assert response.data["count"] == 25
    assert len(response.data["results"]) == 20


def test_other_users_notices_are_not_listed(client_user, other_client_user, as_client):
    _reminder(other_client_user)
    assert as_client.get("/api/v1/notices/").data["count"] == 0


def test_unread_only_filter(client_user, as_client):
    read = _reminder(client_user)
    unread = _reminder(client_user)
    as_client.post(f"/api/v1/notices/{read.pk}/read/")
    response = as_client.get("/api/v1/notices/?unread=true")
    assert [n["id"] for n in response.data["results"]] == [unread.pk]


def test_a_bad_filter_is_a_400(as_client):
    response = as_client.get("/api/v1/notices/?unread=perhaps")
    assert response.status_code == 400
    assert "unread" in response.data


def test_marking_my_notice_read(client_user, as_client):
    notice = _reminder(client_user)
    response = as_client.post(f"/api/v1/notices/{notice.pk}/read/")
    assert response.status_code == 200
    assert response.data["read_at"] is not None
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_read_twice_keeps_the_first_time(client_user, as_client):
    notice = _reminder(client_user)
    as_client.post(f"/api/v1/notices/{notice.pk}/read/")
    first = Notice.objects.get(pk=notice.pk).read_at
    as_client.post(f"/api/v1/notices/{notice.pk}/read/")
    assert Notice.objects.get(pk=notice.pk).read_at == first


def test_another_users_notice_is_a_404_and_stays_unread(other_client_user, as_client):
    notice = _reminder(other_client_user)
    assert as_client.post(f"/api/v1/notices/{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_read_all_marks_only_mine(client_user, other_client_user, as_client):
    _reminder(client_user)
    _reminder(client_user)
    theirs = _reminder(other_client_user)
    response = as_client.post("/api/v1/notices/read-all/")
    assert response.data == {"marked": 2}
    assert not Notice.objects.filter(user=client_user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notices_need_a_sign_in(anon):
    assert anon.get("/api/v1/notices/").status_code == 401


# --- the text -----------------------------------------------------------------------------------


def test_the_text_follows_the_request_language(client_user):
    _reminder(client_user)
    response = api_as(client_user).get("/api/v1/notices/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.data["results"][0]["text"].startswith("Reminder")


def test_an_unknown_kind_reads_as_a_generic_notice(client_user, as_client):
    notice_send(user=client_user, kind="something_new", params={"x": 1})
    text = as_client.get("/api/v1/notices/").data["results"][0]["text"]
    assert text == "You have a new notice on Pianke."


def test_params_that_do_not_fit_read_as_a_generic_notice():
    text = notice_text(kind="reminder_1h", params={"start": "not a time"}, zone=dt.UTC)
    assert text == "You have a new notice on Pianke."


def test_another_app_can_register_a_kind():
    notice_kind_register("test_kind", "Something at %(at)s", times=["at"])
    from zoneinfo import ZoneInfo

    with translation.override("en"):
        text = notice_text(
            kind="test_kind", params={"at": START.isoformat()}, zone=ZoneInfo("Asia/Tokyo")
        )
    assert text == "Something at 2026-03-01 21:00 JST"


def test_an_off_site_url_is_not_shown(client_user, as_client):
    notice_send(user=client_user, kind="booking_cancelled", params={}, url="javascript:alert(1)")
    notice_send(user=client_user, kind="booking_cancelled", params={}, url="//evil.example/")
    assert {n["url"] for n in as_client.get("/api/v1/notices/").data["results"]} == {""}


# --- pages --------------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_and_the_notice(client, client_user):
    _reminder(client_user)
    client.force_login(client_user)
    page = client.get("/account/").content.decode()
    assert 'class="badge"' in page
    assert "Reminder: your 30-minute session starts in about an hour" in page
    assert "2026-03-01 20:00" in page


def test_dismissing_a_notice_from_a_page(client, client_user):
    notice = _reminder(client_user)
    client.force_login(client_user)
    response = client.post(f"/notices/{notice.pk}/read/", {"next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "unread-notice-" not in client.get("/account/").content.decode()


def test_dismissing_another_users_notice_is_a_404(client, client_user, other_client_user):
    notice = _reminder(other_client_user)
    client.force_login(client_user)
    assert client.post(f"/notices/{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_notices_page_lists_read_and_unread(client, client_user):
    read = _reminder(client_user)
    read.read_at = timezone.now()
    read.save()
    _reminder(client_user)
    client.force_login(client_user)
    page = client.get("/notices/").content.decode()
    assert page.count('id="notice-') == 2


def test_mark_all_read_from_the_page(client, client_user):
    _reminder(client_user)
    client.force_login(client_user)
    client.post("/notices/read-all/")
    assert not Notice.objects.filter(read_at__isnull=True).exists()


def test_an_anonymous_page_has_no_notices(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "unread-notice-" not in page.content.decode()
