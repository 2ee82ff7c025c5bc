"""A counselor takes a day off in the availability editor; the free times of that day
disappear from their public profile, and the session already booked that day stays, listed
for the counselor to keep or cancel."""

import datetime as dt

from playwright.sync_api import expect

from listening.models import Booking
from tests.e2e.conftest import screenshot
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    at_local,
    local_today,
)

SHANGHAI = "Asia/Shanghai"


def test_time_off_set_in_the_browser_hides_the_slots_on_the_public_profile(new_context):
    counselor = CounselorProfileFactory(display_name="Away Listener", user__timezone=SHANGHAI)
    day = local_today(SHANGHAI) + dt.timedelta(days=2)
    OneOffWindowFactory(
        counselor=counselor, start=at_local(SHANGHAI, day, 10), end=at_local(SHANGHAI, day, 12)
    )
    booked = BookingFactory(counselor=counselor, start=at_local(SHANGHAI, day, 11))

    viewer = new_context(ClientFactory(timezone=SHANGHAI), timezone_id=SHANGHAI).new_page()
    viewer.goto(f"/counselors/{counselor.pk}/?duration=30")
    expect(viewer.locator(".slot-list time")).to_have_count(4)  # 10:00-10:30, then 11:30

    page = new_context(counselor.user, timezone_id=SHANGHAI).new_page()
    page.goto("/counselor/availability/")
    page.locator("#id_timeoff-start_date").fill(day.isoformat())
    page.locator("#id_timeoff-end_date").fill(day.isoformat())
    page.get_by_role("button", name="Add time off").click()
    expect(page.get_by_text("Time off added")).to_be_visible()
    expect(page.locator(f"#time-off-session-{booked.pk}")).to_contain_text("kept")
    screenshot(page, "time_off")

    viewer.reload()
    expect(viewer.locator(".slot-list time")).to_have_count(0)
    expect(viewer.get_by_text("No free times in the next 7 days.")).to_be_visible()
    booked.refresh_from_db()
    assert booked.status == Booking.Status.CONFIRMED
