"""The session room in two browsers: text chat both ways, delivery state, a reload that replays
the history without duplicates, and the counselor's referral reaching the client."""

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from ethics.models import Referral, Resource
from tests.e2e.conftest import screenshot
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory


def live_booking(mode: str = "text", **kwargs):
    """A confirmed 30-minute session that started a minute ago (its room is open)."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(start=start, end=start + dt.timedelta(minutes=30), mode=mode, **kwargs)


def open_room(ctx, booking):
    page = ctx.new_page()
    page.goto(f"/sessions/{booking.pk}/")
    expect(page.locator("#chat-input")).to_be_enabled()  # the socket is configured
    return page


def send(page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")


def test_client_and_counselor_chat_both_ways_and_a_reload_replays_without_duplicates(new_context):
    counselor = CounselorProfileFactory(display_name="Chen Mo")
    client = ClientFactory(username="river")
    booking = live_booking(counselor=counselor, client=client)
    client_page = open_room(new_context(client), booking)
    counselor_page = open_room(new_context(counselor.user, timezone_id="Europe/Berlin"), booking)
    expect(client_page.locator("#room-presence")).to_contain_text("Chen Mo is in the room")
    expect(counselor_page.locator("#room-presence")).to_contain_text("river is in the room")

    send(client_page, "Hello, I have been sleeping badly.")
    mine = client_page.locator("#chat-log li.mine").last
    expect(mine).to_contain_text("Hello, I have been sleeping badly.")
    expect(mine.locator(".msg-state")).to_have_text("Delivered")
    expect(counselor_page.locator("#chat-log li.theirs")).to_contain_text(
        ["Hello, I have been sleeping badly."]
    )

    send(counselor_page, "Thank you for telling me. Since when?")
    expect(client_page.locator("#chat-log li.theirs")).to_contain_text(
        ["Thank you for telling me. Since when?"]
    )
    send(client_page, "About two weeks.")
    expect(counselor_page.locator("#chat-log li.theirs")).to_have_count(2)
    expect(counselor_page.locator("#room-timer")).to_have_text(re.compile(r"\d+:\d\d left"))
    screenshot(client_page, "room-text-client")
    screenshot(counselor_page, "room-text-counselor")

    counselor_page.reload()
    expect(counselor_page.locator("#chat-input")).to_be_enabled()
    log = counselor_page.locator("#chat-log li")
    expect(log).to_have_count(3)
    expect(log).to_contain_text(
        [
            "Hello, I have been sleeping badly.",
            "Thank you for telling me. Since when?",
            "About two weeks.",
        ]
    )
    # And the room still works after the reload, both ways.
    send(client_page, "Are you still there?")
    expect(counselor_page.locator("#chat-log li")).to_have_count(4)
    send(counselor_page, "Yes, still here.")
    expect(client_page.locator("#chat-log li")).to_have_count(5)
    assert booking.messages.count() == 5


def test_a_message_typed_while_the_connection_is_down_is_sent_once_when_it_returns(new_context):
    booking = live_booking()
    ctx = new_context(booking.client)
    client_page = open_room(ctx, booking)
    counselor_page = open_room(new_context(booking.counselor.user), booking)
    ctx.set_offline(True)
    client_page.evaluate(
        "window.piankeRoom.socket.drop()"
    )  # the socket notices the network went away
    send(client_page, "Written while offline")
    expect(client_page.locator("#chat-log li.mine .msg-state")).to_have_text("Sending…")
    ctx.set_offline(False)
    client_page.evaluate("window.piankeRoom.socket.retryNow()")
    expect(client_page.locator("#chat-log li.mine .msg-state")).to_have_text(
        "Delivered", timeout=20_000
    )
    expect(counselor_page.locator("#chat-log li.theirs")).to_have_count(1)
    assert booking.messages.count() == 1


def test_counselor_refers_from_the_room_and_the_client_accepts_on_the_referrals_page(new_context):
    resource = Resource.objects.create(
        kind="long-term-counseling",
        name="Riverside counselling centre",
        region="CN",
        language="zh",
        contact="010-00000000",
        source="test",
        last_verified=dt.date(2026, 1, 1),
    )
    booking = live_booking()
    counselor_page = open_room(new_context(booking.counselor.user), booking)
    counselor_page.get_by_label("Resource", exact=True).select_option(label=f"{resource.name} (CN)")
    counselor_page.get_by_label("Why this resource (the client sees this)").fill(
        "Weekly sessions would help."
    )
    counselor_page.get_by_label("Urgency").select_option("soon")
    counselor_page.get_by_role("button", name="Refer", exact=True).click()
    expect(counselor_page.locator("#referral-list")).to_contain_text("Riverside counselling centre")
    assert Referral.objects.get(booking=booking).urgency == "soon"

    client_page = new_context(booking.client).new_page()
    client_page.goto("/referrals/")
    expect(client_page.get_by_role("heading", name="Riverside counselling centre")).to_be_visible()
    screenshot(client_page, "referrals")
    client_page.get_by_role("button", name="Accept Riverside counselling centre").click()
    expect(client_page.locator(".messages")).to_contain_text("Accepted")
    assert Referral.objects.get(booking=booking).status == "accepted"


def test_the_room_speaks_chinese_to_a_chinese_browser(new_context):
    booking = live_booking(mode="voice")
    page = open_room(new_context(booking.client, locale="zh-CN"), booking)
    expect(page.get_by_role("heading", name="语音通话")).to_be_visible()
    expect(page.locator("#room-timer")).to_contain_text("剩余")
    send(page, "你好")
    expect(page.locator("#chat-log li.mine .msg-state")).to_have_text("已送达")
    expect(page.get_by_role("button", name="开启麦克风")).to_be_enabled()
    screenshot(page, "room-voice-client-zh")


def test_the_warning_and_the_end_come_from_the_session_clock(new_context):
    """The real clock (Celery beat and eta tasks): a session ending in half a minute."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=14, seconds=30)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=15), duration_minutes=15)
    client_page = open_room(new_context(booking.client), booking)
    counselor_page = open_room(new_context(booking.counselor.user), booking)
    for page in (client_page, counselor_page):
        expect(page.locator("#room-notice")).to_contain_text(
            "About two minutes left", timeout=40_000
        )
        expect(page.locator("#room-timer")).to_have_class(re.compile("warn"))
    for page in (client_page, counselor_page):
        expect(page.get_by_role("heading", name="The session has ended.")).to_be_visible(
            timeout=60_000
        )
        expect(page.locator("#chat-input")).to_be_disabled()
    expect(client_page.get_by_role("link", name="How was it? Give feedback")).to_be_visible()
    expect(counselor_page.get_by_role("link", name="How was it? Give feedback")).to_have_count(0)
    booking.refresh_from_db()
    assert booking.status == "completed"


def test_the_counselors_notes_save_themselves_and_stay_private(new_context):
    booking = live_booking()
    counselor_page = open_room(new_context(booking.counselor.user), booking)
    notes = counselor_page.get_by_role("textbox", name="Private notes")
    notes.fill("Sleep problems for two weeks; exams soon.")
    expect(counselor_page.locator("#note-state")).to_contain_text("Saved at")  # no button pressed
    counselor_page.reload()
    expect(counselor_page.get_by_role("textbox", name="Private notes")).to_have_value(
        "Sleep problems for two weeks; exams soon."
    )
    client_page = open_room(new_context(booking.client), booking)
    expect(client_page.get_by_text("exams soon")).to_have_count(0)


def test_a_page_loaded_before_the_room_opens_counts_down_and_then_joins(new_context):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5, seconds=8)
    booking = BookingFactory(start=start, end=start + dt.timedelta(minutes=15), duration_minutes=15)
    page = new_context(booking.client).new_page()
    page.goto(f"/sessions/{booking.pk}/")
    expect(page.locator("#room-timer")).to_contain_text("The room opens in 0:")
    expect(page.locator("#chat-input")).to_be_disabled()
    expect(page.locator("#chat-input")).to_be_enabled(timeout=20_000)
    expect(page.locator("#room-timer")).to_have_text(re.compile(r"Starts in [45]:\d\d"))
