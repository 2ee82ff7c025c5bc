"""Talk now end to end: a counselor on duty in one browser, a client asking in another; the
counselor accepts the offer, both land in the session room and chat both ways (uvicorn, a
real Celery worker on Redis, Chromium)."""

from playwright.sync_api import expect

from tests.conftest import seed_reference_data
from tests.e2e.conftest import screenshot
from tests.factories import ClientFactory, CounselorProfileFactory


def test_talk_now_from_request_to_chat(new_context):
    seed_reference_data()
    counselor = CounselorProfileFactory(
        specialties=["anxiety"], languages=["zh", "en"], modes=["text"]
    )
    client = ClientFactory(language="en")

    desk = new_context(counselor.user).new_page()
    desk.goto("/counselor/")
    desk.get_by_role("button", name="Go on duty").click()
    expect(desk.locator("[data-duty]")).to_have_attribute("data-connected", "1")
    screenshot(desk, "counselor-on-duty")

    page = new_context(client, timezone_id="Europe/London").new_page()
    page.goto("/talk-now/")
    page.get_by_label("What would you like to talk about?").select_option("anxiety")
    page.get_by_label("Anything the counselor should know first? (optional)").fill(
        "Work has been a lot lately."
    )
    screenshot(page, "talk-now-form")
    page.get_by_role("button", name="Find a counselor").click()
    expect(page.locator("#match-status")).to_contain_text("counselor")
    screenshot(page, "talk-now-waiting")

    offer = desk.locator("[data-offer-id]")
    expect(offer).to_contain_text("Work has been a lot lately.")
    expect(offer.locator(".countdown")).to_contain_text("seconds left")
    screenshot(desk, "counselor-offer")
    offer.get_by_role("button", name="Accept and start").click()

    desk.wait_for_url("**/sessions/*/")
    page.wait_for_url("**/sessions/*/", timeout=20_000)
    assert desk.url == page.url

    expect(page.locator("#chat-input")).to_be_enabled()
    expect(desk.locator("#chat-input")).to_be_enabled()
    page.locator("#chat-input").fill("Hello, thank you for taking this.")
    page.locator("#chat-send").click()
    expect(desk.locator("#chat-scroll")).to_contain_text("Hello, thank you for taking this.")
    desk.locator("#chat-input").fill("Of course. What is on your mind?")
    desk.locator("#chat-send").click()
    expect(page.locator("#chat-scroll")).to_contain_text("Of course. What is on your mind?")
    screenshot(page, "talk-now-room-client")
