"""A client in London moves a session with a counselor in Shanghai to another free time,
picked in London time, and sees the new time in their bookings."""

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from listening.models import Booking
from tests.e2e.conftest import screenshot
from tests.e2e.test_booking_flow import LONDON, SHANGHAI, shown
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    at_local,
    local_today,
)


def test_client_moves_a_session_to_another_time_in_their_own_zone(new_context):
    counselor = CounselorProfileFactory(display_name="Shanghai Listener", user__timezone=SHANGHAI)
    start = at_local(SHANGHAI, local_today(SHANGHAI) + dt.timedelta(days=2), 20)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=2))
    client = ClientFactory(username="river", timezone=LONDON, language="en")
    booking = BookingFactory(counselor=counselor, client=client, start=start)
    later = start + dt.timedelta(hours=1)

    page = new_context(client, timezone_id=LONDON).new_page()
    page.goto("/bookings/")
    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_role("heading", name="Move a session")).to_be_visible()
    expect(page.locator(".when-line time")).to_have_text(shown(start, LONDON))
    page.get_by_label(f"{later.astimezone(ZoneInfo(LONDON)):%H:%M}", exact=True).check()
    screenshot(page, "reschedule")
    page.get_by_role("button", name="Move the session").click()

    expect(page.get_by_text("The session is moved; the other person is told.")).to_be_visible()
    expect(page.locator(f"#booking-{booking.pk} .when time").first).to_have_text(
        shown(later, LONDON)
    )
    booking.refresh_from_db()
    assert booking.start == later and booking.status == Booking.Status.CONFIRMED
