"""Booking pages: the booking form and my bookings (join, cancel, calendar, feedback)."""

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from listening.models import Booking, Feedback
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    next_quarter,
)

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def slot():
    """A counselor with a free hour tomorrow; its first quarter hour."""
    counselor = CounselorProfileFactory(modes=["text", "voice"])
    start = next_quarter(days=1)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    return counselor, start


def book_url(counselor, start, duration=30) -> str:
    return f"/counselors/{counselor.pk}/book/?start={quote(start.isoformat())}&duration={duration}"


def booking_data(start, **overrides) -> dict:
    data = {
        "start": start.isoformat(),
        "duration_minutes": "30",
        "mode": "text",
        "topic": "exam stress",
        "note": "first time",
    }
    data.update(overrides)
    return data


# --- booking ------------------------------------------------------------------------------------------------


def test_booking_needs_a_signed_in_client(slot):
    counselor, start = slot
    response = Client().get(book_url(counselor, start))
    assert response.status_code == 302 and response.url.startswith("/login/?next=")
    assert signed_in(counselor.user).get(book_url(counselor, start)).status_code == 403


def test_booking_without_an_intake_leads_to_the_intake_and_back(slot):
    counselor, start = slot
    url = book_url(counselor, start)
    response = signed_in(ClientFactory(intake=False)).get(url)
    assert response.status_code == 302 and response.url == f"/intake/?next={quote(url, safe='')}"


def test_booking_form_shows_the_time_in_the_viewers_zone_and_the_counselors_modes(slot):
    counselor, start = slot
    response = signed_in(ClientFactory(timezone=LONDON)).get(book_url(counselor, start))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'datetime="{start.astimezone(ZoneInfo(LONDON)).isoformat()}"' in body
    assert [value for value, _label in response.context["form"].fields["mode"].choices] == [
        "text",
        "voice",
    ]
    assert 'value="video"' not in body


def test_booking_a_free_slot_creates_it_and_shows_my_bookings(slot):
    counselor, start = slot
    client = ClientFactory()
    response = signed_in(client).post(f"/counselors/{counselor.pk}/book/", booking_data(start))
    booking = Booking.objects.get()
    assert response.status_code == 302 and response.url == f"/bookings/#booking-{booking.pk}"
    assert (
        booking.client,
        booking.start,
        booking.duration_minutes,
        booking.mode,
        booking.note,
    ) == (client, start, 30, "text", "first time")


def test_a_taken_slot_is_a_409_and_books_nothing(slot):
    counselor, start = slot
    BookingFactory(counselor=counselor, start=start, end=start + dt.timedelta(minutes=30))
    response = signed_in(ClientFactory()).post(
        f"/counselors/{counselor.pk}/book/", booking_data(start)
    )
    assert response.status_code == 409
    assert "no longer free" in response.content.decode()
    assert Booking.objects.count() == 1


def test_booking_over_my_own_other_session_is_a_409(slot):
    counselor, start = slot
    client = ClientFactory()
    BookingFactory(client=client, start=start, end=start + dt.timedelta(minutes=30))
    response = signed_in(client).post(f"/counselors/{counselor.pk}/book/", booking_data(start))
    assert response.status_code == 409
    assert "already have a session at that time" in response.content.decode()
    assert Booking.objects.filter(counselor=counselor).count() == 0


def test_a_mode_the_counselor_does_not_offer_names_the_field(slot):
    counselor, start = slot
    response = signed_in(ClientFactory()).post(
        f"/counselors/{counselor.pk}/book/", booking_data(start, mode="video")
    )
    assert response.status_code == 400 and "mode" in response.context["form"].errors
    assert not Booking.objects.exists()


def test_a_missing_topic_names_the_field(slot):
    counselor, start = slot
    response = signed_in(ClientFactory()).post(
        f"/counselors/{counselor.pk}/book/", booking_data(start, topic="")
    )
    assert response.status_code == 400 and "topic" in response.context["form"].errors
    assert not Booking.objects.exists()


def test_a_time_outside_the_window_is_a_400(slot):
    counselor, start = slot
    response = signed_in(ClientFactory()).post(
        f"/counselors/{counselor.pk}/book/", booking_data(start + dt.timedelta(hours=5))
    )
    assert response.status_code == 400
    assert "outside the counselor's availability" in " ".join(
        response.context["form"].non_field_errors()
    )
    assert not Booking.objects.exists()


def test_a_garbled_start_asks_to_pick_a_time(slot):
    counselor, _start = slot
    response = signed_in(ClientFactory()).get(f"/counselors/{counselor.pk}/book/?start=tomorrow")
    assert response.status_code == 400
    assert "Pick a time" in response.content.decode()


def test_booking_an_unlisted_counselor_is_404():
    counselor = CounselorProfileFactory(verification="pending")
    assert signed_in(ClientFactory()).get(f"/counselors/{counselor.pk}/book/").status_code == 404


# --- my bookings --------------------------------------------------------------------------------------------


def test_my_bookings_shows_upcoming_and_past_in_my_zone():
    client = ClientFactory(timezone=LONDON)
    upcoming = BookingFactory(client=client)
    past_start = next_quarter(days=-2)
    past = BookingFactory(
        client=client,
        start=past_start,
        end=past_start + dt.timedelta(minutes=30),
        status=Booking.Status.COMPLETED,
    )
    BookingFactory()  # someone else's
    response = signed_in(client).get("/bookings/")
    assert [r.booking for r in response.context["upcoming"]] == [upcoming]
    assert [r.booking for r in response.context["past"]] == [past]
    body = response.content.decode()
    assert f'datetime="{upcoming.start.astimezone(ZoneInfo(LONDON)).isoformat()}"' in body


def test_a_counselor_sees_their_sessions_with_the_clients_note():
    booking = BookingFactory(note="please be gentle")
    body = signed_in(booking.counselor.user).get("/bookings/").content.decode()
    assert booking.client.username in body and "please be gentle" in body


def test_my_bookings_is_for_clients_and_counselors():
    from tests.factories import StaffFactory

    assert Client().get("/bookings/").status_code == 302
    assert signed_in(StaffFactory()).get("/bookings/").status_code == 403


def test_join_is_disabled_until_five_minutes_before_and_says_when_it_opens():
    start = next_quarter(timezone.now() + dt.timedelta(minutes=30))
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    response = signed_in(booking.client).get("/bookings/")
    row = response.context["upcoming"][0]
    assert not row.can_join and row.opens_later and row.opens_at == start - dt.timedelta(minutes=5)
    body = response.content.decode()
    assert f'href="/sessions/{booking.pk}/"' not in body
    assert "The room opens at" in body


def test_join_links_to_the_room_from_five_minutes_before_until_the_end():
    start = next_quarter(timezone.now())
    if start - timezone.now() > dt.timedelta(minutes=5):
        start -= dt.timedelta(minutes=15)  # the session started a few minutes ago
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    body = signed_in(booking.client).get("/bookings/").content.decode()
    assert f'href="/sessions/{booking.pk}/"' in body


def test_my_bookings_links_to_the_calendar_export():
    booking = BookingFactory()
    c = signed_in(booking.client)
    body = c.get("/bookings/").content.decode()
    assert f'href="/api/v1/bookings/{booking.pk}/calendar.ics"' in body
    assert (
        c.get(f"/api/v1/bookings/{booking.pk}/calendar.ics").status_code == 200
    )  # session auth works


def test_cancelling_a_booking(django_capture_on_commit_callbacks):
    booking = BookingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(booking.client).post(
            f"/bookings/{booking.pk}/cancel/", {f"cancel-{booking.pk}-reason": "feeling better"}
        )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason == "feeling better"


def test_cancelling_after_the_start_is_a_409_shown_at_the_booking():
    start = next_quarter(timezone.now()) - dt.timedelta(minutes=15)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=30))
    response = signed_in(booking.client).post(f"/bookings/{booking.pk}/cancel/")
    assert response.status_code == 409
    assert "already started" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_a_too_long_cancel_reason_is_a_400():
    booking = BookingFactory()
    response = signed_in(booking.client).post(
        f"/bookings/{booking.pk}/cancel/", {f"cancel-{booking.pk}-reason": "x" * 501}
    )
    assert response.status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancelling_someone_elses_booking_is_404():
    booking = BookingFactory()
    response = signed_in(ClientFactory()).post(f"/bookings/{booking.pk}/cancel/")
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_giving_feedback_after_a_session():
    start = next_quarter(days=-1)
    booking = BookingFactory(
        start=start, end=start + dt.timedelta(minutes=30), status=Booking.Status.COMPLETED
    )
    c = signed_in(booking.client)
    assert c.get("/bookings/").context["past"][0].needs_feedback
    prefix = f"feedback-{booking.pk}"
    response = c.post(
        f"/bookings/{booking.pk}/feedback/",
        {f"{prefix}-pre_distress": "7", f"{prefix}-post_distress": "4", f"{prefix}-rating": "5"},
    )
    assert response.status_code == 302
    assert Feedback.objects.get(booking=booking).rating == 5


def test_feedback_without_a_rating_names_the_field():
    start = next_quarter(days=-1)
    booking = BookingFactory(
        start=start, end=start + dt.timedelta(minutes=30), status=Booking.Status.COMPLETED
    )
    prefix = f"feedback-{booking.pk}"
    response = signed_in(booking.client).post(
        f"/bookings/{booking.pk}/feedback/",
        {f"{prefix}-pre_distress": "7", f"{prefix}-post_distress": "4"},
    )
    assert response.status_code == 400
    assert not Feedback.objects.exists()
    row = response.context["past"][0]
    assert "rating" in row.feedback_form.errors


def test_feedback_before_the_session_is_a_409():
    booking = BookingFactory()
    prefix = f"feedback-{booking.pk}"
    response = signed_in(booking.client).post(
        f"/bookings/{booking.pk}/feedback/",
        {f"{prefix}-pre_distress": "7", f"{prefix}-post_distress": "4", f"{prefix}-rating": "3"},
    )
    assert response.status_code == 409
    assert not Feedback.objects.exists()
