"""A counselor's view of a client's earlier sessions: only their own sessions with that
client, with their own notes, and only while the client shares."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.encryption import encrypt_text
from counselors.models import HistoryShare
from listening.models import Booking, SessionNote
from listening.selectors import client_history_for_counselor
from tests.factories import BookingFactory, next_quarter

pytestmark = pytest.mark.django_db


def past(client, counselor, days_ago, topic="sleep", note=None):
    booking = BookingFactory(
        client=client,
        counselor=counselor,
        start=next_quarter(days=-days_ago),
        status=Booking.Status.COMPLETED,
        topic=topic,
    )
    if note is not None:
        SessionNote.objects.create(
            booking=booking, author=counselor.user, ciphertext=encrypt_text(note), revision=1
        )
    return booking


def share(client, counselor):
    return HistoryShare.objects.create(
        client=client, counselor=counselor, granted_at=timezone.now()
    )


@pytest.fixture
def upcoming(client_user, counselor):
    return BookingFactory(client=client_user, counselor=counselor)


def history(api, booking):
    response = api.get(f"/api/v1/bookings/{booking.pk}/client-history/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_shared_history_shows_own_sessions_with_topics_and_own_notes(
    as_counselor, client_user, counselor, upcoming
):
    earlier = past(client_user, counselor, 10, topic="grief", note="slept badly")
    share(client_user, counselor)
    body = history(as_counselor, upcoming)
    assert body["shared"] is True
    assert [(s["booking"], s["topic"], s["note"]) for s in body["sessions"]] == [
        (earlier.pk, "grief", "slept badly")
    ]
    assert body["sessions"][0]["duration_minutes"] == 30
    assert body["sessions"][0]["mode"] == "text"
    assert body["sessions"][0]["status"] == "completed"


def test_history_never_shows_sessions_with_other_counselors(
    as_counselor, client_user, counselor, other_counselor, upcoming
):
    mine = past(client_user, counselor, 10)
    past(client_user, other_counselor, 5, topic="secret elsewhere", note="their notes")
    share(client_user, counselor)
    share(client_user, other_counselor)
    body = history(as_counselor, upcoming)
    assert [s["booking"] for s in body["sessions"]] == [mine.pk]
    assert "secret elsewhere" not in str(body) and "their notes" not in str(body)


def test_without_a_share_there_is_nothing(as_counselor, client_user, counselor, upcoming):
    past(client_user, counselor, 10, topic="grief", note="private")
    assert history(as_counselor, upcoming) == {
        "shared": False,
        "shared_since": None,
        "sessions": [],
    }


def test_history_stops_at_withdrawal(as_counselor, as_client, client_user, counselor, upcoming):
    past(client_user, counselor, 10, topic="grief")
    share(client_user, counselor)
    assert history(as_counselor, upcoming)["sessions"]
    assert (
        as_client.delete(f"/api/v1/my-counselors/{counselor.pk}/history-share/").status_code == 204
    )
    assert history(as_counselor, upcoming) == {
        "shared": False,
        "shared_since": None,
        "sessions": [],
    }


def test_a_share_with_another_counselor_gives_this_one_nothing(
    as_counselor, client_user, counselor, other_counselor, upcoming
):
    past(client_user, counselor, 10)
    share(client_user, other_counselor)
    assert history(as_counselor, upcoming)["shared"] is False


def test_history_leaves_out_cancelled_and_later_sessions(
    as_counselor, client_user, counselor, upcoming
):
    earlier = past(client_user, counselor, 10)
    BookingFactory(
        client=client_user,
        counselor=counselor,
        start=next_quarter(days=-3),
        status=Booking.Status.CANCELLED,
    )
    BookingFactory(
        client=client_user, counselor=counselor, start=upcoming.start + dt.timedelta(days=2)
    )
    share(client_user, counselor)
    assert [s["booking"] for s in history(as_counselor, upcoming)["sessions"]] == [earlier.pk]


def test_the_client_of_the_booking_gets_404(as_client, client_user, counselor, upcoming):
    share(client_user, counselor)
    assert as_client.get(f"/api/v1/bookings/{upcoming.pk}/client-history/").status_code == 404


def test_another_counselor_gets_404(as_other_counselor, client_user, counselor, upcoming):
    share(client_user, counselor)
    response = as_other_counselor.get(f"/api/v1/bookings/{upcoming.pk}/client-history/")
    assert response.status_code == 404


def test_selector_reads_only_the_pair(client_user, other_client_user, counselor):
    past(other_client_user, counselor, 4, topic="other client")
    mine = past(client_user, counselor, 8)
    share(client_user, counselor)
    share(other_client_user, counselor)
    result = client_history_for_counselor(counselor=counselor.user, client_id=client_user.pk)
    assert [s.booking_id for s in result.sessions] == [mine.pk]


def test_room_side_panel_shows_shared_history(client, client_user, counselor, upcoming):
    past(client_user, counselor, 10, topic="grief", note="slept badly")
    share(client_user, counselor)
    client.force_login(counselor.user)
    html = client.get(reverse("listening:session-room", args=[upcoming.pk])).content.decode()
    assert 'id="client-history"' in html
    assert "grief" in html and "slept badly" in html


def test_room_side_panel_says_when_history_is_not_shared(client, client_user, counselor, upcoming):
    past(client_user, counselor, 10, topic="grief")
    client.force_login(counselor.user)
    html = client.get(reverse("listening:session-room", args=[upcoming.pk])).content.decode()
    assert "The client has not shared their history with you." in html
    assert "grief" not in html


def test_the_client_never_sees_the_history_panel(client, client_user, counselor, upcoming):
    past(client_user, counselor, 10, note="slept badly")
    share(client_user, counselor)
    client.force_login(client_user)
    html = client.get(reverse("listening:session-room", args=[upcoming.pk])).content.decode()
    assert 'id="client-history"' not in html and "slept badly" not in html
