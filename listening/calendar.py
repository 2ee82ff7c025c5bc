"""iCalendar export of bookings: time and a neutral title, never the topic or note. One
booking (`bookings/{id}/calendar.ics`) or a user's subscription feed (`/calendar/<token>.ics`);
both build each event the same way, so a calendar sees one UID and SEQUENCE per session."""

import datetime as dt

from django.utils import timezone
from icalendar import Calendar, Event

from listening.models import Booking

UTC = dt.UTC
PRODID = "-//Pianke//Listening sessions//EN"


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    return calendar


def booking_event(*, booking: Booking, viewer, stamp: dt.datetime | None = None) -> Event:
    """The VEVENT of one booking as `viewer` (one of its participants) sees it."""
    event = Event()
    event.add("uid", f"booking-{booking.pk}@pianke")
    # Raised on every reschedule: a calendar that imported this UID takes the new time.
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", (stamp or timezone.now()).astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    other = (
        booking.counselor.display_name
        if viewer.id == booking.client_id
        else booking.client.username
    )
    event.add("summary", f"Pianke session ({booking.duration_minutes} min) with {other}")
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    return event


def booking_icalendar(*, booking: Booking, viewer) -> bytes:
    calendar = _calendar()
    calendar.add_component(booking_event(booking=booking, viewer=viewer))
    return calendar.to_ical()


def feed_icalendar(*, bookings, viewer) -> bytes:
    """A subscription calendar of `viewer`'s sessions: one VEVENT per booking (cancelled ones
    as STATUS:CANCELLED, so a calendar that has the event marks it off), asking subscribers to
    refresh hourly."""
    calendar = _calendar()
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Pianke")
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", dt.timedelta(hours=1))
    stamp = timezone.now()
    for booking in bookings:
        calendar.add_component(booking_event(booking=booking, viewer=viewer, stamp=stamp))
    return calendar.to_ical()
