"""iCalendar export of a booking: time and a neutral title, never the topic or note."""

import datetime as dt

from django.utils import timezone
from icalendar import Calendar, Event

from listening.models import Booking

UTC = dt.UTC


def booking_icalendar(*, booking: Booking, viewer) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Pianke//Listening sessions//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@pianke")
    # Raised on every reschedule: a calendar that imported this UID takes the new time.
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    other = (
        booking.counselor.display_name
        if viewer.id == booking.client_id
        else booking.client.username
    )
    event.add("summary", f"Pianke session ({booking.duration_minutes} min) with {other}")
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
