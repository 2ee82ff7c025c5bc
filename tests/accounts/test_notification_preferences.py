"""Notification preferences: the API, the account page's section, the one-click unsubscribe,
quiet hours as wall-clock times, and their place in the data export and account deletion."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Notice, NotificationPreference
from accounts.selectors import quiet_hours_contain, quiet_hours_end_after
from accounts.services import notice_send, unsubscribe_token_make
from workflows.services import user_data_export, user_delete

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_defaults_without_a_row(as_client):
    response = as_client.get("/api/v1/me/notifications/")
    assert response.status_code == 200
    assert response.data == {
        "email_reminders": True,
        "in_page_reminders": True,
        "remind_24h": True,
        "remind_1h": True,
        "quiet_start": None,
        "quiet_end": None,
        "timezone": "Asia/Shanghai",
    }
    assert not NotificationPreference.objects.exists()


def test_patch_changes_only_what_is_given(client_user, as_client):
    as_client.patch("/api/v1/me/notifications/", {"remind_24h": False}, format="json")
    response = as_client.patch(
        "/api/v1/me/notifications/",
        {"quiet_start": "22:00", "quiet_end": "07:00"},
        format="json",
    )
    assert response.status_code == 200
    assert response.data["remind_24h"] is False
    assert (response.data["quiet_start"], response.data["quiet_end"]) == ("22:00", "07:00")
    pref = NotificationPreference.objects.get(user=client_user)
    assert pref.quiet_start == dt.time(22) and pref.remind_1h is True


def test_quiet_hours_can_be_cleared(client_user, as_client):
    NotificationPreference.objects.create(
        user=client_user, quiet_start=dt.time(22), quiet_end=dt.time(7)
    )
    response = as_client.patch(
        "/api/v1/me/notifications/", {"quiet_start": None, "quiet_end": None}, format="json"
    )
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=client_user).quiet_start is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"quiet_end": "07:00"}, "quiet_start"),
        ({"quiet_start": "22:00:30", "quiet_end": "07:00"}, "quiet_start"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
        ({"remind_1h": "sometimes"}, "remind_1h"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(as_client, body, field):
    response = as_client.patch(
        "/api/v1/me/notifications/", {"remind_24h": False, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.data
    assert not NotificationPreference.objects.exists()


def test_half_quiet_hours_against_a_saved_window_is_refused(client_user, as_client):
    NotificationPreference.objects.create(
        user=client_user, quiet_start=dt.time(22), quiet_end=dt.time(7)
    )
    response = as_client.patch("/api/v1/me/notifications/", {"quiet_end": None}, format="json")
    assert response.status_code == 400
    assert NotificationPreference.objects.get(user=client_user).quiet_end == dt.time(7)


def test_preferences_need_a_sign_in(anon):
    assert anon.get("/api/v1/me/notifications/").status_code == 401


# --- the account page ----------------------------------------------------------------------


def test_the_account_page_shows_the_preferences(client, client_user):
    client.force_login(client_user)
    page = client.get("/account/").content.decode()
    assert 'id="notifications-heading"' in page
    assert 'name="quiet_start"' in page


def test_the_account_page_saves_the_preferences(client, client_user):
    client.force_login(client_user)
    response = client.post(
        "/account/notifications/",
        {
            "in_page_reminders": "on",
            "remind_1h": "on",
            "quiet_start": "23:00",
            "quiet_end": "06:30",
        },
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=client_user)
    assert (pref.email_reminders, pref.in_page_reminders, pref.remind_24h, pref.remind_1h) == (
        False,
        True,
        False,
        True,
    )
    assert pref.quiet_end == dt.time(6, 30)


def test_the_account_page_refuses_half_quiet_hours(client, client_user):
    client.force_login(client_user)
    response = client.post("/account/notifications/", {"quiet_start": "23:00"})
    assert response.status_code == 400
    assert "Give both the start and the end" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# --- one-click unsubscribe -----------------------------------------------------------------


def test_unsubscribe_get_asks_and_changes_nothing(client, client_user):
    response = client.get(f"/unsubscribe/{unsubscribe_token_make(user=client_user)}/")
    assert response.status_code == 200
    assert "Stop reminder e-mails" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_unsubscribe_post_turns_reminder_emails_off_without_a_sign_in(client, client_user):
    client.handler.enforce_csrf_checks = True  # as a mail client posts: no session, no token
    token = unsubscribe_token_make(user=client_user)
    response = client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    pref = NotificationPreference.objects.get(user=client_user)
    assert pref.email_reminders is False
    assert pref.in_page_reminders is True


def test_unsubscribe_with_a_bad_signature_is_a_404(client, client_user):
    token = unsubscribe_token_make(user=client_user)
    assert client.post(f"/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert client.get("/unsubscribe/nonsense/").status_code == 404
    assert not NotificationPreference.objects.exists()


def test_an_unsubscribe_token_is_only_for_its_user(client, client_user, other_client_user):
    client.post(f"/unsubscribe/{unsubscribe_token_make(user=client_user)}/")
    assert not NotificationPreference.objects.filter(user=other_client_user).exists()


# --- quiet hours as wall-clock times ---------------------------------------------------------


def _pref(start, end):
    return NotificationPreference(quiet_start=start, quiet_end=end)


def _at(hour, minute=0):
    return dt.datetime(2026, 6, 1, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False)],
)
def test_a_window_that_wraps_midnight(hour, minute, quiet):
    assert quiet_hours_contain(_pref(dt.time(22), dt.time(7)), _at(hour, minute), SHANGHAI) is quiet


@pytest.mark.parametrize(("hour", "quiet"), [(12, False), (13, True), (14, True), (15, False)])
def test_a_daytime_window(hour, quiet):
    assert quiet_hours_contain(_pref(dt.time(13), dt.time(15)), _at(hour), SHANGHAI) is quiet


def test_no_quiet_hours_are_never_quiet():
    assert not quiet_hours_contain(_pref(None, None), _at(3), SHANGHAI)


def test_the_end_of_a_wrapping_window_before_midnight_is_the_next_morning():
    end = quiet_hours_end_after(_pref(dt.time(22), dt.time(7)), _at(23), SHANGHAI)
    assert end == dt.datetime(2026, 6, 2, 7, tzinfo=SHANGHAI)


def test_the_end_of_a_wrapping_window_after_midnight_is_the_same_morning():
    end = quiet_hours_end_after(_pref(dt.time(22), dt.time(7)), _at(2), SHANGHAI)
    assert end == dt.datetime(2026, 6, 1, 7, tzinfo=SHANGHAI)


# --- export and deletion ---------------------------------------------------------------------


def test_the_export_holds_the_preferences_and_notices(client_user):
    NotificationPreference.objects.create(user=client_user, remind_24h=False)
    notice_send(user=client_user, kind="booking_cancelled", params={"booking_id": 3})
    data = user_data_export(user=client_user)
    assert data["notification_preferences"]["remind_24h"] is False
    assert [n["kind"] for n in data["notices"]] == ["booking_cancelled"]


def test_the_export_without_a_row_says_none(client_user):
    data = user_data_export(user=client_user)
    assert data["notification_preferences"] is None
    assert data["notices"] == []


def test_deleting_the_account_removes_the_preferences_and_notices(client_user, other_client_user):
    NotificationPreference.objects.create(user=client_user)
    notice_send(user=client_user, kind="booking_cancelled", params={})
    notice_send(user=other_client_user, kind="booking_cancelled", params={})
    user_delete(user_id=client_user.pk)
    assert not NotificationPreference.objects.filter(user=client_user).exists()
    assert not Notice.objects.filter(user=client_user).exists()
    assert Notice.objects.filter(user=other_client_user).count() == 1
