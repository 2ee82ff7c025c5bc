"""Conversation-level triage in the browser: a client's quiet cue asks the counselor for the
risk check (C-SSRS screen), which the counselor records in the room; a client worried about a
friend sees how to help them and the hotlines, and no alert is opened about the client."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from ethics.models import CrisisAlert, RiskCheck
from tests.e2e.conftest import screenshot
from tests.ethics.test_escalation_support import seed_directory
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory


def live_room(new_context):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=2)
    booking = BookingFactory(
        counselor=CounselorProfileFactory(display_name="Zhou Ning", user__language="en"),
        client=ClientFactory(username="lantern", language="en"),
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    client_page = new_context(booking.client).new_page()
    client_page.goto(f"/sessions/{booking.pk}/")
    counselor_page = new_context(booking.counselor.user).new_page()
    counselor_page.goto(f"/sessions/{booking.pk}/")
    for page in (client_page, counselor_page):
        expect(page.locator("#chat-input")).to_be_enabled()
    return booking, client_page, counselor_page


def say(page, text):
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")


def test_a_quiet_cue_asks_the_counselor_for_the_risk_check_and_it_is_recorded(new_context):
    seed_directory()
    booking, client_page, counselor_page = live_room(new_context)
    say(client_page, "honestly nobody would miss me")

    expect(counselor_page.locator("#risk-check-prompt")).to_be_visible(timeout=15_000)
    form = counselor_page.locator("#risk-check-form")
    for field, value in [("q1_wish_dead", "false"), ("q2_thoughts", "true")]:
        form.locator(f'input[name="{field}"][value="{value}"]').check()
    for field, value in [
        ("q3_method", "true"),
        ("q4_intent", "false"),
        ("q5_plan", "false"),
        ("q6_behavior", "false"),
    ]:
        form.locator(f'input[name="{field}"][value="{value}"]').check()
    form.get_by_role("button", name="Record the risk check").click()
    # Moderate: the safety plan and the referral are asked for before anything is stored.
    expect(form.locator("#risk_safety_plan")).to_be_visible()
    assert not RiskCheck.objects.exists()
    form.locator("#risk_safety_plan").fill(
        "Stay with her sister tonight; call 12356 if it gets worse"
    )
    form.locator("#risk_referral_note").fill("University counselling centre")
    form.get_by_role("button", name="Record the risk check").click()
    expect(counselor_page.locator("#risk-check-list")).to_contain_text("Moderate risk")
    screenshot(counselor_page, "room-risk-check")
    assert RiskCheck.objects.get(booking=booking).outcome == "moderate"
    assert not CrisisAlert.objects.exists()
    expect(client_page.locator("#risk-check")).to_have_count(0)  # never shown to the client


def test_a_client_worried_about_a_friend_sees_how_to_help_and_no_alert_opens(new_context):
    seed_directory()
    booking, client_page, _counselor_page = live_room(new_context)
    say(client_page, "My friend told me she wants to die, how do I help her?")

    panel = client_page.locator("#crisis-panel")
    expect(panel).to_be_visible(timeout=15_000)
    expect(client_page.locator("#crisis-helping")).to_be_visible()
    expect(client_page.locator("#crisis-helping-title")).to_contain_text("someone else")
    expect(panel).to_contain_text("12356")
    assert not CrisisAlert.objects.filter(booking=booking).exists()
