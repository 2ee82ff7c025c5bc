"""A crisis message in the room: the client sees the hotline panel at once, the counselor is
told, and the on-call supervisor's queue shows the alert live (no reload); the supervisor
acknowledges it."""

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from ethics.models import CrisisAlert
from tests.e2e.conftest import screenshot
from tests.ethics.test_escalation_support import (
    HIGH_EN,
    SupervisorFactory,
    on_shift,
    seed_directory,
)
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory


def test_crisis_message_shows_hotlines_and_reaches_the_on_call_supervisor_live(new_context):
    seed_directory()  # the hotlines (a transactional test starts with an empty directory)
    supervisor = SupervisorFactory(username="mei")
    on_shift(supervisor)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=2)
    booking = BookingFactory(
        counselor=CounselorProfileFactory(display_name="Zhou Ning"),
        client=ClientFactory(username="lantern"),
        start=start,
        end=start + dt.timedelta(minutes=30),
    )

    oncall = new_context(supervisor).new_page()
    oncall.goto("/oncall/")
    expect(oncall.locator("#live-state")).to_have_attribute("data-state", "open")
    expect(oncall.locator("#queue-empty")).to_be_visible()
    oncall.evaluate("window.notReloaded = true")

    client_page = new_context(booking.client).new_page()
    client_page.goto(f"/sessions/{booking.pk}/")
    counselor_page = new_context(booking.counselor.user).new_page()
    counselor_page.goto(f"/sessions/{booking.pk}/")
    for page in (client_page, counselor_page):
        expect(page.locator("#chat-input")).to_be_enabled()

    client_page.locator("#chat-input").fill(HIGH_EN)
    client_page.locator("#chat-input").press("Enter")

    panel = client_page.get_by_role("alert").filter(has_text="You are not alone")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("12356")
    expect(panel.get_by_role("link", name="010-82951332")).to_have_attribute(
        "href", "tel:01082951332"
    )
    expect(counselor_page.locator("#counselor-crisis-banner")).to_contain_text(
        "crisis signal was detected"
    )
    screenshot(client_page, "room-crisis-client")

    alert = CrisisAlert.objects.get(booking=booking)
    card = oncall.locator(f"#alert-{alert.pk}")
    expect(card).to_be_visible(
        timeout=20_000
    )  # pushed through the staff socket by the Celery worker
    expect(card).to_contain_text("lantern")
    expect(card).to_contain_text("Zhou Ning")
    assert oncall.evaluate("window.notReloaded") is True
    expect(oncall).to_have_title(re.compile(r"^\(1\) "))  # the tab shows how many wait
    screenshot(oncall, "oncall-queue")

    card.get_by_label("Note (optional)").fill("Calling the client now.")
    card.get_by_role("button", name=f"Acknowledge alert {alert.pk}").click()
    expect(oncall.locator(".messages")).to_contain_text(f"Alert {alert.pk} acknowledged")
    card = oncall.locator(f"#alert-{alert.pk}")
    expect(card).to_contain_text("Acknowledged")
    expect(card.get_by_role("button", name=f"Acknowledge alert {alert.pk}")).to_have_count(0)
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == (CrisisAlert.Status.ACKNOWLEDGED, supervisor)
