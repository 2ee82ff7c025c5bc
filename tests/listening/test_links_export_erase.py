"""Account export and deletion cover time off, preferred counselors, history consents and
calendar feeds (the feed's existence, never its token)."""

import pytest
from django.utils import timezone

from counselors.models import HistoryShare, PreferredCounselor
from listening.feeds import calendar_feed_create
from listening.models import CalendarFeed
from tests.factories import TimeOffFactory
from workflows.services import user_data_export, user_delete

pytestmark = pytest.mark.django_db


def test_export_has_preferences_shares_and_the_feed_without_its_token(client_user, counselor):
    PreferredCounselor.objects.create(
        client=client_user, counselor=counselor, notify_new_windows=True
    )
    HistoryShare.objects.create(client=client_user, counselor=counselor, granted_at=timezone.now())
    feed, token = calendar_feed_create(user=client_user)
    data = user_data_export(user=client_user)
    assert [p["counselor_id"] for p in data["preferred_counselors"]] == [counselor.pk]
    assert [s["counselor_id"] for s in data["history_shares"]] == [counselor.pk]
    assert data["calendar_feeds"][0]["live"] is True
    assert token not in str(data) and feed.token_hash not in str(data)


def test_export_has_a_counselors_time_off(counselor):
    TimeOffFactory(counselor=counselor, note="family")
    data = user_data_export(user=counselor.user)
    assert [t["note"] for t in data["time_off"]] == ["family"]


def test_deletion_revokes_feeds_withdraws_shares_and_deletes_preferences(client_user, counselor):
    PreferredCounselor.objects.create(client=client_user, counselor=counselor)
    HistoryShare.objects.create(client=client_user, counselor=counselor, granted_at=timezone.now())
    calendar_feed_create(user=client_user)
    user_delete(user_id=client_user.pk)
    assert not PreferredCounselor.objects.exists()
    assert not HistoryShare.objects.filter(withdrawn_at__isnull=True).exists()
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


def test_a_counselors_deletion_withdraws_the_shares_made_with_them(client_user, counselor):
    HistoryShare.objects.create(client=client_user, counselor=counselor, granted_at=timezone.now())
    PreferredCounselor.objects.create(client=client_user, counselor=counselor)
    user_delete(user_id=counselor.pk)
    assert not HistoryShare.objects.filter(withdrawn_at__isnull=True).exists()
    assert not PreferredCounselor.objects.exists()
