import datetime as dt

import pytest
from icalendar import Calendar

from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_calendar_export_is_a_valid_vevent_in_utc(as_client, client_user, counselor):
    booking = BookingFactory(
        client=client_user, counselor=counselor, topic="my divorce", note="very private"
    )
    response = as_client.get(f"/api/v1/bookings/{booking.pk}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.pk}@pianke"
    assert event.decoded("DTSTART") == booking.start
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == booking.end
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content


def test_calendar_summary_carries_no_clinical_detail(as_client, client_user, counselor):
    booking = BookingFactory(
        client=client_user, counselor=counselor, topic="my divorce", note="very private"
    )
    content = as_client.get(f"/api/v1/bookings/{booking.pk}/calendar.ics").content.decode()
    assert "divorce" not in content
    assert "private" not in content
    assert "30 min" in content


def test_counselor_can_export_their_session_too(as_counselor, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    response = as_counselor.get(f"/api/v1/bookings/{booking.pk}/calendar.ics")
    assert response.status_code == 200
    assert client_user.username in response.content.decode()


def test_anonymous_gets_401_for_calendar(anon, client_user, counselor):
    booking = BookingFactory(client=client_user, counselor=counselor)
    assert anon.get(f"/api/v1/bookings/{booking.pk}/calendar.ics").status_code == 401
