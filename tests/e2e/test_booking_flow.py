"""A client in London finds a counselor in Shanghai, books one of their free times (going
through the consent and intake on the way), and both see the session in their own zone."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from listening.models import Booking
from tests.e2e.conftest import screenshot
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    at_local,
    local_today,
)

LONDON, SHANGHAI = "Europe/London", "Asia/Shanghai"


def shown(t: dt.datetime, zone: str) -> str:
    """A booking's start as the pages print it in English ("l j F, H:i")."""
    local = t.astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def test_client_books_and_both_sides_see_the_session_in_their_own_zone(new_context):
    counselor = CounselorProfileFactory(
        display_name="Shanghai Listener",
        user__timezone=SHANGHAI,
        languages=["zh", "en"],
        modes=["text", "voice"],
    )
    CounselorProfileFactory(display_name="Mandarin Only", languages=["zh"])
    start = at_local(SHANGHAI, local_today(SHANGHAI) + dt.timedelta(days=2), 20)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    client = ClientFactory(username="river", timezone=LONDON, language="en", intake=False)

    page = new_context(client, timezone_id=LONDON).new_page()
    page.goto("/counselors/")
    page.get_by_label("Session language").select_option("en")
    page.get_by_role("button", name="Show counselors").click()
    expect(page.get_by_role("heading", name="Mandarin Only")).to_have_count(0)
    screenshot(page, "directory")
    page.get_by_role("link", name="Shanghai Listener", exact=True).click()

    expect(page.get_by_role("heading", name="Shanghai Listener", level=1)).to_be_visible()
    london = start.astimezone(ZoneInfo(LONDON))
    slot = page.locator(f'a:has(time[datetime="{london.isoformat()}"])')
    expect(slot).to_have_text(re.compile(f"^{london:%H:%M}"))
    screenshot(page, "profile")
    slot.click()

    # No intake yet: the consent, then the intake, then back to the booking.
    expect(page).to_have_url(re.compile(r"/consent/\?next="))
    page.get_by_role("button", name="I agree").click()
    expect(page.get_by_role("heading", name="A short intake")).to_be_visible()
    page.get_by_label("What would you like to talk about?").fill("work stress")
    page.get_by_role("group", name="How distressed do you feel right now?").get_by_label(
        "4", exact=True
    ).check()
    for question in (
        "Feeling nervous, anxious or on edge",
        "Not being able to stop or control worrying",
        "Little interest or pleasure in doing things",
        "Feeling down, depressed or hopeless",
        "Thoughts that you would be better off dead",
    ):
        page.get_by_role("group", name=question).get_by_label("Not at all").check()
    screenshot(page, "intake")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you for answering")).to_be_visible()
    page.get_by_role("link", name="Continue booking").click()

    expect(
        page.get_by_role("heading", name="Book a session with Shanghai Listener")
    ).to_be_visible()
    expect(page.locator(".when-line time")).to_have_text(shown(start, LONDON))
    expect(page.get_by_label("What would you like to talk about?")).to_have_value("work stress")
    page.get_by_label("Text chat").check()
    page.get_by_label("15 minutes").check()
    screenshot(page, "booking_form")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    booking = Booking.objects.get(client=client)
    card = page.locator(f"#booking-{booking.pk}")
    expect(card.locator(".when time").first).to_have_text(shown(start, LONDON))
    expect(card).to_contain_text("with Shanghai Listener")
    expect(card.get_by_role("button", name="Join")).to_be_disabled()
    expect(card.get_by_role("link", name="Add to calendar")).to_have_attribute(
        "href", f"/api/v1/bookings/{booking.pk}/calendar.ics"
    )
    screenshot(page, "my_bookings")
    assert (booking.start, booking.duration_minutes, booking.mode) == (start, 15, "text")

    counselor_page = new_context(counselor.user, timezone_id=SHANGHAI).new_page()
    counselor_page.goto("/counselor/")
    expect(counselor_page.get_by_text("1 more session booked after today.")).to_be_visible()
    screenshot(counselor_page, "counselor_dashboard")
    counselor_page.get_by_role("link", name="All your sessions").click()
    card = counselor_page.locator(f"#booking-{booking.pk}")
    expect(card.locator(".when time").first).to_have_text(shown(start, SHANGHAI))
    expect(card).to_contain_text("client: river")
    assert shown(start, SHANGHAI) != shown(start, LONDON)
