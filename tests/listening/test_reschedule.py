"""Moving a booking: POST bookings/{id}/reschedule/, the service's rules, the calendar's
SEQUENCE, the e-mail to the other side, and the page."""

import datetime as dt
import threading

import httpx
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from rest_framework.authtoken.models import Token

from listening.models import Booking
from listening.selectors import counselor_free_slots
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
)
from tests.listening.test_booking_concurrency import tokens_for

URL = "/api/v1/bookings/{}/reschedule/"


@pytest.fixture
def window_start(counselor):
    return counselor.windows.get().start


@pytest.fixture
def booking(counselor, client_user, window_start):
    """A confirmed 30-minute session at the start of the counselor's window (tomorrow)."""
    return BookingFactory(
        counselor=counselor,
        client=client_user,
        start=window_start,
        end=window_start + dt.timedelta(minutes=30),
        price=counselor.price_30,
    )


def move(api, booking, start, **body):
    return api.post(URL.format(booking.pk), {"start": start.isoformat(), **body}, format="json")


@pytest.mark.django_db
def test_client_moves_a_booking_to_another_free_slot_and_the_old_time_is_free(
    as_client, booking, window_start, counselor
):
    new_start = window_start + dt.timedelta(hours=1)
    response = move(as_client, booking, new_start)
    assert response.status_code == 200, response.json()
    assert dt.datetime.fromisoformat(response.json()["start"]) == new_start
    booking.refresh_from_db()
    assert (booking.start, booking.end) == (new_start, new_start + dt.timedelta(minutes=30))
    assert booking.ics_sequence == 1
    # The old time is free again, in the same transaction.
    free = counselor_free_slots(
        profile=counselor,
        start=window_start,
        end=window_start + dt.timedelta(hours=1),
        duration_minutes=30,
    )
    assert (window_start, window_start + dt.timedelta(minutes=30)) in free


@pytest.mark.django_db
def test_moving_onto_a_taken_time_is_409_and_changes_nothing(as_client, booking, window_start):
    taken = window_start + dt.timedelta(hours=1)
    BookingFactory(counselor=booking.counselor, start=taken, end=taken + dt.timedelta(minutes=30))
    response = move(as_client, booking, taken)
    assert response.status_code == 409 and response.json()["code"] == "slot_taken"
    booking.refresh_from_db()
    assert booking.start == window_start and booking.ics_sequence == 0


@pytest.mark.django_db
def test_a_reschedule_inside_the_cut_off_gets_409(as_client, counselor, client_user):
    soon = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=90)
    soon -= dt.timedelta(minutes=soon.minute % 15)
    OneOffWindowFactory(counselor=counselor, start=soon, end=soon + dt.timedelta(hours=3))
    booking = BookingFactory(counselor=counselor, client=client_user, start=soon)
    response = move(as_client, booking, soon + dt.timedelta(hours=1))  # default cut-off: 2 h
    assert response.status_code == 409 and response.json()["code"] == "cutoff_passed"


@pytest.mark.django_db
def test_the_counselor_must_give_a_reason(as_counselor, booking, window_start):
    response = move(as_counselor, booking, window_start + dt.timedelta(hours=1))
    assert response.status_code == 400 and "reason" in response.json()
    booking.refresh_from_db()
    assert booking.start == window_start


@pytest.mark.django_db
def test_the_counselor_moves_with_a_reason_and_the_client_is_emailed(
    as_counselor, booking, window_start, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = move(
            as_counselor, booking, window_start + dt.timedelta(hours=2), reason="clinic meeting"
        )
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [[booking.client.email]]
    body = mail.outbox[0].body
    assert "clinic meeting" in body and booking.topic not in body


@pytest.mark.django_db
def test_outside_the_counselors_windows_is_400_naming_start(as_client, booking, window_start):
    response = move(as_client, booking, window_start + dt.timedelta(hours=5))
    assert response.status_code == 400 and "start" in response.json()


@pytest.mark.django_db
def test_a_naive_start_is_400(as_client, booking):
    response = as_client.post(
        URL.format(booking.pk), {"start": "2030-01-01T10:00:00"}, format="json"
    )
    assert response.status_code == 400 and "start" in response.json()


@pytest.mark.django_db
def test_someone_elses_booking_is_404(as_other_client, booking, window_start):
    assert move(as_other_client, booking, window_start + dt.timedelta(hours=1)).status_code == 404


@pytest.mark.django_db
def test_a_cancelled_booking_cannot_be_moved(as_client, booking, window_start):
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    response = move(as_client, booking, window_start + dt.timedelta(hours=1))
    assert response.status_code == 409 and response.json()["code"] == "not_reschedulable"


@pytest.mark.django_db
def test_the_calendar_keeps_its_uid_and_raises_its_sequence(as_client, booking, window_start):
    def event():
        ics = as_client.get(f"/api/v1/bookings/{booking.pk}/calendar.ics").content
        return next(c for c in Calendar.from_ical(ics).walk() if c.name == "VEVENT")

    before = event()
    assert move(as_client, booking, window_start + dt.timedelta(hours=1)).status_code == 200
    after = event()
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("dtstart") == window_start + dt.timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_two_bookings_moved_into_one_slot_at_once_exactly_one_wins(asgi_server):
    counselor = CounselorProfileFactory()
    window = OneOffWindowFactory(counselor=counselor)
    tokens = tokens_for(2)
    bookings = [
        BookingFactory(
            counselor=counselor,
            client=Token.objects.get(key=token).user,
            start=window.start + dt.timedelta(minutes=30 * i),
            end=window.start + dt.timedelta(minutes=30 * i + 30),
        )
        for i, token in enumerate(tokens)
    ]
    target = window.start + dt.timedelta(hours=2)
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def post(i):
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            responses[i] = http.post(
                f"{asgi_server}{URL.format(bookings[i].pk)}",
                json={"start": target.isoformat()},
                headers={"Authorization": f"Token {tokens[i]}"},
            )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert Booking.objects.filter(start=target).count() == 1


# --- the page ------------------------------------------------------------------------------------


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_the_page_lists_free_times_and_moves_the_booking(booking, window_start):
    c = signed_in(booking.client)
    page = c.get(reverse("listening:booking-reschedule", args=[booking.pk]))
    assert page.status_code == 200
    new_start = window_start + dt.timedelta(hours=1)
    assert new_start in [s for _day, slots in page.context["days"] for s, _e in slots]
    response = c.post(
        reverse("listening:booking-reschedule", args=[booking.pk]), {"start": new_start.isoformat()}
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.start == new_start


@pytest.mark.django_db
def test_the_page_shows_a_taken_time_as_a_409(booking, window_start):
    taken = window_start + dt.timedelta(hours=1)
    BookingFactory(counselor=booking.counselor, start=taken, end=taken + dt.timedelta(minutes=30))
    response = signed_in(booking.client).post(
        reverse("listening:booking-reschedule", args=[booking.pk]), {"start": taken.isoformat()}
    )
    assert response.status_code == 409
    assert "no longer free" in response.content.decode()


@pytest.mark.django_db
def test_the_page_of_someone_elses_booking_is_404(booking):
    other = ClientFactory()
    assert (
        signed_in(other).get(reverse("listening:booking-reschedule", args=[booking.pk])).status_code
        == 404
    )
