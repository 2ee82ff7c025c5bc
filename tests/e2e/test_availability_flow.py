"""A counselor publishes a weekly window in the availability editor; it shows on the week
grid and as free times on their public profile (in the viewer's zone)."""

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import ClientFactory, CounselorProfileFactory, at_local, local_today

SHANGHAI, LONDON = "Asia/Shanghai", "Europe/London"


def test_a_published_weekly_window_appears_as_free_times_on_the_profile(new_context):
    counselor = CounselorProfileFactory(display_name="Weekly Listener", user__timezone=SHANGHAI)
    day = local_today(SHANGHAI) + dt.timedelta(days=2)

    page = new_context(counselor.user, timezone_id=SHANGHAI).new_page()
    page.goto("/counselor/availability/")
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    page.locator("#id_weekly-weekday").select_option(str(day.weekday()))
    page.locator("#id_weekly-start_time").fill("10:00")
    page.locator("#id_weekly-end_time").fill("11:00")
    page.get_by_role("button", name="Publish weekly window").click()

    expect(page.get_by_text("Weekly window published.")).to_be_visible()
    page.goto(f"/counselor/availability/?week={day}")
    expect(page.locator(".week-grid .block.weekly")).to_have_text("10:00–11:00")
    expect(page.locator(".window-list")).to_contain_text("10:00–11:00")
    screenshot(page, "availability_editor")

    viewer = new_context(ClientFactory(timezone=LONDON), timezone_id=LONDON).new_page()
    viewer.goto(f"/counselors/{counselor.pk}/?duration=30")
    starts = [at_local(SHANGHAI, day, 10, m).astimezone(ZoneInfo(LONDON)) for m in (0, 15, 30)]
    slots = viewer.locator(".slot-list time")
    expect(slots).to_have_count(3)
    expect(slots).to_have_text([f"{s:%H:%M}" for s in starts])
    for s, time in zip(starts, slots.all()):
        assert time.get_attribute("datetime") == s.isoformat()
    expect(viewer.locator(".slot-days h3")).to_have_text(
        [f"{starts[0]:%A} {starts[0].day} {starts[0]:%B}"]
    )
