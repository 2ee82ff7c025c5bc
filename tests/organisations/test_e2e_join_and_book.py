"""In Chromium: a client joins their employer with its code, sees the allowance, and books a
session that the allowance pays for, as the booking page and the bookings list then say."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from listening.models import Booking
from tests.e2e.conftest import (
    _orm_between_browser_steps,
    browser,
    e2e_server,
    new_context,
    screenshot,
)
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    at_local,
    local_today,
)
from tests.organisations.factories import AllowanceFactory

pytestmark = pytest.mark.e2e
SHANGHAI = "Asia/Shanghai"


def test_a_member_joins_with_the_code_and_books_a_sponsored_session(new_context):
    allowance = AllowanceFactory(
        organisation__name="Acme EAP", organisation__join_code="ACME-2026", sessions_per_member=2
    )
    counselor = CounselorProfileFactory(display_name="Listener Wu", modes=["text"])
    start = at_local(SHANGHAI, local_today(SHANGHAI) + dt.timedelta(days=2), 20)
    OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    client = ClientFactory(username="river", timezone=SHANGHAI, language="en")

    page = new_context(client, timezone_id=SHANGHAI).new_page()
    page.goto("/organisations/join/")
    page.get_by_role("textbox", name="Join code").fill("acme-2026")
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page).to_have_url(re.compile(r"/organisations/mine/$"))
    expect(page.get_by_role("heading", name=re.compile("Acme EAP"))).to_be_visible()
    expect(page.locator("#allowance-remaining")).to_contain_text("2 sponsored sessions left")
    screenshot(page, "organisation-mine")

    page.goto(
        f"/counselors/{counselor.pk}/book/?start={start.isoformat()}&duration=30".replace(
            "+", "%2B"
        )
    )
    expect(page.get_by_role("heading", name="Book a session with Listener Wu")).to_be_visible()
    page.get_by_label("What would you like to talk about?").fill("work stress")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Paid by Acme EAP's allowance.").first).to_be_visible()
    screenshot(page, "organisation-booked")

    booking = Booking.objects.get(client=client)
    assert booking.allowance_claim.organisation == allowance.organisation
    page.goto("/organisations/mine/")
    expect(page.locator("#allowance-remaining")).to_contain_text("1 sponsored session left")
