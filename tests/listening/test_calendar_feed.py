"""The private calendar feed: a revocable secret URL that calendars subscribe to, showing
one's own sessions without topics."""

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from icalendar import Calendar

from listening.models import Booking, CalendarFeed
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/calendar-feed/"


def new_feed(api) -> str:
    response = api.post(API)
    assert response.status_code == 201, response.json()
    return response.json()["url"]


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_feed_is_valid_icalendar_with_the_users_sessions(as_client, client_user, counselor, anon):
    booking = BookingFactory(client=client_user, counselor=counselor)
    response = anon.get(path_of(new_feed(as_client)))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.pk}@pianke"
    assert event.decoded("DTSTART") == booking.start
    assert event.decoded("DTEND") == booking.end
    for line in response.content.split(b"\r\n"):
        assert len(line) <= 75  # folded as RFC 5545 asks


def test_feed_event_has_the_uid_and_sequence_of_the_single_export(
    as_client, client_user, counselor, anon
):
    booking = BookingFactory(client=client_user, counselor=counselor, ics_sequence=3)
    single = Calendar.from_ical(
        as_client.get(f"/api/v1/bookings/{booking.pk}/calendar.ics").content
    ).walk("VEVENT")[0]
    [event] = Calendar.from_ical(anon.get(path_of(new_feed(as_client))).content).walk("VEVENT")
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (str(single["UID"]), 3)
    assert str(event["SUMMARY"]) == str(single["SUMMARY"])


def test_feed_shows_no_topic_and_no_note(as_client, client_user, counselor, anon):
    BookingFactory(client=client_user, counselor=counselor, topic="my divorce", note="very private")
    content = anon.get(path_of(new_feed(as_client))).content.decode()
    assert "divorce" not in content
    assert "private" not in content.replace("Cache-Control", "")


def test_feed_never_shows_another_users_sessions(as_client, client_user, counselor, anon):
    mine = BookingFactory(client=client_user, counselor=counselor)
    BookingFactory(counselor=counselor, start=mine.start + dt.timedelta(hours=1))
    BookingFactory()
    events = Calendar.from_ical(anon.get(path_of(new_feed(as_client))).content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"booking-{mine.pk}@pianke"]


def test_a_counselors_feed_shows_their_sessions(as_counselor, counselor, anon):
    booking = BookingFactory(counselor=counselor)
    events = Calendar.from_ical(anon.get(path_of(new_feed(as_counselor))).content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"booking-{booking.pk}@pianke"]


def test_cancelled_sessions_show_as_cancelled_and_old_ones_drop_out(
    as_client, client_user, counselor, anon
):
    cancelled = BookingFactory(
        client=client_user, counselor=counselor, status=Booking.Status.CANCELLED
    )
    old = BookingFactory(
        client=client_user,
        counselor=counselor,
        start=cancelled.start - dt.timedelta(days=60),
        status=Booking.Status.COMPLETED,
    )
    events = Calendar.from_ical(anon.get(path_of(new_feed(as_client))).content).walk("VEVENT")
    assert [(str(e["UID"]), str(e["STATUS"])) for e in events] == [
        (f"booking-{cancelled.pk}@pianke", "CANCELLED")
    ]
    assert old.pk != cancelled.pk


def test_revoked_token_is_404(as_client, anon):
    path = path_of(new_feed(as_client))
    assert as_client.delete(API).status_code == 204
    assert anon.get(path).status_code == 404


def test_a_new_url_revokes_the_old_one(as_client, anon):
    old, new = path_of(new_feed(as_client)), path_of(new_feed(as_client))
    assert anon.get(old).status_code == 404
    assert anon.get(new).status_code == 200
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1


def test_unknown_token_is_404(anon):
    assert anon.get("/calendar/" + "A" * 43 + ".ics").status_code == 404


def test_only_the_hash_of_the_token_is_stored(as_client):
    url = new_feed(as_client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in feed.token_hash


def test_a_fetch_records_last_fetched_at(as_client, anon):
    path = path_of(new_feed(as_client))
    assert CalendarFeed.objects.get().last_fetched_at is None
    anon.get(path)
    assert CalendarFeed.objects.get().last_fetched_at is not None
    assert as_client.get(API).json()["last_fetched_at"] is not None


def test_get_shows_state_but_never_the_url(as_client):
    assert as_client.get(API).json()["active"] is False
    new_feed(as_client)
    body = as_client.get(API).json()
    assert body["active"] is True
    assert "url" not in body and "webcal_url" not in body


def test_post_gives_https_and_webcal_urls(as_client):
    body = as_client.post(API).json()
    assert body["url"].startswith("http")
    assert body["webcal_url"].startswith("webcal://")
    assert body["url"].split("://")[1] == body["webcal_url"].split("://")[1]


def test_feed_api_needs_sign_in(anon):
    assert anon.post(API).status_code in (401, 403)
    assert not CalendarFeed.objects.exists()


def test_staff_have_no_feed(as_staff):
    assert as_staff.post(API).status_code == 403


def test_a_deactivated_account_feed_is_404(as_client, client_user, anon):
    path = path_of(new_feed(as_client))
    client_user.is_active = False
    client_user.save(update_fields=["is_active"])
    assert anon.get(path).status_code == 404


def test_feed_page_creates_shows_once_and_revokes(client):
    user = ClientFactory()
    client.force_login(user)
    page = reverse("listening:calendar-feed")
    assert client.get(page).status_code == 200
    made = client.post(page, {"action": "create"})
    assert made.status_code == 200
    html = made.content.decode()
    assert "webcal://" in html
    token_path = "/calendar/"
    assert token_path in html
    assert "webcal://" not in client.get(page).content.decode()  # shown only once
    assert client.post(page, {"action": "revoke"}).status_code == 302
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


def test_feed_page_is_linked_from_the_bookings_list(client):
    counselor = CounselorProfileFactory()
    client.force_login(counselor.user)
    html = client.get(reverse("listening:booking-list")).content.decode()
    assert reverse("listening:calendar-feed") in html
