"""My counselors: the counselors a client has met, with book again, preference, new-window
notices and history sharing; only for counselors actually met."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notice
from counselors.models import HistoryShare, PreferredCounselor
from counselors.services import window_create
from listening.models import Booking
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/my-counselors/"


def met(client, counselor, days_ago=3, status=Booking.Status.COMPLETED):
    return BookingFactory(
        client=client,
        counselor=counselor,
        start=next_quarter(days=-days_ago),
        status=status,
    )


def listed_ids(api):
    response = api.get(API)
    assert response.status_code == 200, response.json()
    return [row["counselor"] for row in response.json()["results"]]


# --- the list --------------------------------------------------------------------------------------


def test_lists_only_counselors_the_client_has_met(as_client, client_user, counselor):
    met(client_user, counselor)
    BookingFactory(client=client_user)  # upcoming: not met yet
    met(client_user, CounselorProfileFactory(), status=Booking.Status.CANCELLED)
    met(ClientFactory(), CounselorProfileFactory())  # someone else's counselor
    assert listed_ids(as_client) == [counselor.pk]


def test_a_past_session_not_cancelled_counts_as_met(as_client, client_user, counselor):
    met(client_user, counselor, status=Booking.Status.NO_SHOW)
    assert listed_ids(as_client) == [counselor.pk]


def test_each_counselor_has_next_free_slots_and_the_last_session(as_client, client_user, counselor):
    booking = met(client_user, counselor)
    [row] = as_client.get(API).json()["results"]
    assert dt.datetime.fromisoformat(row["last_session"]) == booking.start
    assert len(row["next_slots"]) == 3
    first = row["next_slots"][0]
    length = dt.datetime.fromisoformat(first["end"]) - dt.datetime.fromisoformat(first["start"])
    assert length == dt.timedelta(minutes=30)
    assert row["bookable"] is True
    assert (row["preferred"], row["notify_new_windows"], row["history_shared"]) == (
        False,
        False,
        False,
    )


def test_preferred_counselors_come_first(as_client, client_user, counselor, other_counselor):
    met(client_user, counselor, days_ago=2)
    met(client_user, other_counselor, days_ago=9)
    assert listed_ids(as_client) == [counselor.pk, other_counselor.pk]
    as_client.put(f"{API}{other_counselor.pk}/preferred/", {}, format="json")
    assert listed_ids(as_client) == [other_counselor.pk, counselor.pk]


def test_a_counselor_cannot_open_my_counselors(as_counselor):
    assert as_counselor.get(API).status_code == 403


# --- preferred and notices ---------------------------------------------------------------------------


def test_mark_preferred_with_notices(as_client, client_user, counselor):
    met(client_user, counselor)
    response = as_client.put(
        f"{API}{counselor.pk}/preferred/", {"notify_new_windows": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["preferred"] is True
    assert response.json()["notify_new_windows"] is True
    pref = PreferredCounselor.objects.get()
    assert (pref.client, pref.counselor, pref.notify_new_windows) == (client_user, counselor, True)


def test_marking_again_only_changes_the_opt_in(as_client, client_user, counselor):
    met(client_user, counselor)
    as_client.put(f"{API}{counselor.pk}/preferred/", {"notify_new_windows": True}, format="json")
    as_client.put(f"{API}{counselor.pk}/preferred/", {"notify_new_windows": False}, format="json")
    assert PreferredCounselor.objects.get().notify_new_windows is False


def test_unmark_preferred(as_client, client_user, counselor):
    met(client_user, counselor)
    as_client.put(f"{API}{counselor.pk}/preferred/", {}, format="json")
    assert as_client.delete(f"{API}{counselor.pk}/preferred/").status_code == 204
    assert not PreferredCounselor.objects.exists()


def test_bad_opt_in_is_400_and_changes_nothing(as_client, client_user, counselor):
    met(client_user, counselor)
    response = as_client.put(
        f"{API}{counselor.pk}/preferred/", {"notify_new_windows": "perhaps"}, format="json"
    )
    assert response.status_code == 400
    assert "notify_new_windows" in response.json()
    assert not PreferredCounselor.objects.exists()


def test_a_never_met_counselor_cannot_be_preferred(as_client, counselor):
    response = as_client.put(f"{API}{counselor.pk}/preferred/", {}, format="json")
    assert response.status_code == 404
    assert not PreferredCounselor.objects.exists()


def test_a_counselor_only_another_client_met_is_404(as_client, other_client_user, counselor):
    met(other_client_user, counselor)
    assert as_client.put(f"{API}{counselor.pk}/preferred/", {}, format="json").status_code == 404
    assert as_client.post(f"{API}{counselor.pk}/history-share/").status_code == 404
    assert not PreferredCounselor.objects.exists() and not HistoryShare.objects.exists()


def test_a_counselor_cannot_prefer_or_share(as_counselor, counselor, other_counselor):
    assert (
        as_counselor.put(f"{API}{other_counselor.pk}/preferred/", {}, format="json").status_code
        == 403
    )
    assert as_counselor.post(f"{API}{other_counselor.pk}/history-share/").status_code == 403


def test_an_unknown_counselor_is_404(as_client):
    assert as_client.put(f"{API}999999/preferred/", {}, format="json").status_code == 404


# --- history sharing -----------------------------------------------------------------------------------


def test_grant_and_withdraw_history_sharing(as_client, client_user, counselor):
    met(client_user, counselor)
    response = as_client.post(f"{API}{counselor.pk}/history-share/")
    assert response.status_code == 201
    assert response.json()["shared"] is True
    assert as_client.get(API).json()["results"][0]["history_shared"] is True
    assert as_client.delete(f"{API}{counselor.pk}/history-share/").status_code == 204
    share = HistoryShare.objects.get()
    assert share.withdrawn_at is not None
    assert as_client.get(API).json()["results"][0]["history_shared"] is False


def test_granting_twice_keeps_one_standing_consent(as_client, client_user, counselor):
    met(client_user, counselor)
    as_client.post(f"{API}{counselor.pk}/history-share/")
    as_client.post(f"{API}{counselor.pk}/history-share/")
    assert HistoryShare.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_granting_again_after_withdrawal_keeps_the_record(as_client, client_user, counselor):
    met(client_user, counselor)
    as_client.post(f"{API}{counselor.pk}/history-share/")
    as_client.delete(f"{API}{counselor.pk}/history-share/")
    as_client.post(f"{API}{counselor.pk}/history-share/")
    assert HistoryShare.objects.count() == 2


# --- the page ---------------------------------------------------------------------------------------------


def test_page_lists_met_counselors_with_book_again_links(client, client_user, counselor):
    met(client_user, counselor)
    client.force_login(client_user)
    html = client.get(reverse("listening:my-counselors")).content.decode()
    assert counselor.display_name in html
    assert reverse("listening:booking-new", args=[counselor.pk]) + "?start=" in html
    assert "never see your sessions with other counselors" in html


def test_page_marks_preferred_and_shares(client, client_user, counselor):
    met(client_user, counselor)
    client.force_login(client_user)
    prefer = client.post(
        reverse("listening:my-counselor-preferred", args=[counselor.pk]),
        {"action": "prefer", "notify_new_windows": "on"},
    )
    assert prefer.status_code == 302
    assert PreferredCounselor.objects.get().notify_new_windows is True
    share = client.post(
        reverse("listening:my-counselor-history-share", args=[counselor.pk]), {"action": "grant"}
    )
    assert share.status_code == 302
    assert HistoryShare.objects.filter(withdrawn_at__isnull=True).exists()


def test_page_refuses_a_never_met_counselor_with_404(client, client_user, counselor):
    client.force_login(client_user)
    response = client.post(
        reverse("listening:my-counselor-preferred", args=[counselor.pk]), {"action": "prefer"}
    )
    assert response.status_code == 404
    assert not PreferredCounselor.objects.exists()


def test_page_refuses_an_unknown_action_with_400(client, client_user, counselor):
    met(client_user, counselor)
    client.force_login(client_user)
    response = client.post(
        reverse("listening:my-counselor-history-share", args=[counselor.pk]), {"action": "x"}
    )
    assert response.status_code == 400
    assert not HistoryShare.objects.exists()


def test_page_is_for_clients_only(client, counselor):
    client.force_login(counselor.user)
    assert client.get(reverse("listening:my-counselors")).status_code == 403


def test_nav_links_my_counselors_for_clients(client, client_user):
    client.force_login(client_user)
    assert (
        reverse("listening:my-counselors")
        in client.get(reverse("listening:booking-list")).content.decode()
    )


# --- new windows notify opted-in preferred clients ----------------------------------------------------------


def new_window(counselor, days=3):
    start = next_quarter(days=days).replace(minute=0)
    return window_create(profile=counselor, start=start, end=start + dt.timedelta(hours=1))


def notices_for(user):
    return list(Notice.objects.filter(user=user, kind="preferred_new_window"))


def test_a_new_window_notifies_opted_in_preferred_clients_only(
    client_user, other_client_user, counselor, mailoutbox, django_capture_on_commit_callbacks
):
    quiet = ClientFactory()
    PreferredCounselor.objects.create(
        client=client_user, counselor=counselor, notify_new_windows=True
    )
    PreferredCounselor.objects.create(client=quiet, counselor=counselor, notify_new_windows=False)
    with django_capture_on_commit_callbacks(execute=True):
        new_window(counselor)
    [notice] = notices_for(client_user)
    assert notice.params == {"counselor": counselor.display_name, "counselor_id": counselor.pk}
    assert notice.url == reverse("counselors:counselor-profile", args=[counselor.pk])
    assert notices_for(quiet) == [] and notices_for(other_client_user) == []
    assert [m.to for m in mailoutbox] == [[client_user.email]]
    assert counselor.display_name in mailoutbox[0].body


def test_new_window_notices_are_at_most_one_a_day(client_user, counselor):
    PreferredCounselor.objects.create(
        client=client_user, counselor=counselor, notify_new_windows=True
    )
    new_window(counselor, days=3)
    new_window(counselor, days=4)
    assert len(notices_for(client_user)) == 1


def test_a_notice_older_than_a_day_does_not_hold_the_next(client_user, counselor):
    PreferredCounselor.objects.create(
        client=client_user, counselor=counselor, notify_new_windows=True
    )
    new_window(counselor, days=3)
    Notice.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    new_window(counselor, days=4)
    assert len(notices_for(client_user)) == 2


def test_a_client_without_email_gets_the_notice_but_no_mail(
    counselor, mailoutbox, django_capture_on_commit_callbacks
):
    quiet = ClientFactory(email="")
    PreferredCounselor.objects.create(client=quiet, counselor=counselor, notify_new_windows=True)
    with django_capture_on_commit_callbacks(execute=True):
        new_window(counselor)
    assert len(notices_for(quiet)) == 1
    assert mailoutbox == []


def test_the_new_window_mail_is_in_the_clients_language(
    counselor, mailoutbox, django_capture_on_commit_callbacks
):
    reader = ClientFactory(language="zh-hans")
    PreferredCounselor.objects.create(client=reader, counselor=counselor, notify_new_windows=True)
    with django_capture_on_commit_callbacks(execute=True):
        new_window(counselor)
    [mail] = mailoutbox
    assert "work stress" not in mail.body


def test_another_counselors_window_notifies_no_one(client_user, counselor, other_counselor):
    PreferredCounselor.objects.create(
        client=client_user, counselor=counselor, notify_new_windows=True
    )
    OneOffWindowFactory(counselor=other_counselor)
    new_window(other_counselor)
    assert notices_for(client_user) == []
