"""Themed groups in Chromium: three clients read the rules and take seats on the group's page,
then chat in the group room under seat pseudonyms (never their usernames); the counselor
mutes one of them."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from groups.models import GroupSession
from tests.e2e.conftest import screenshot
from tests.factories import ClientFactory, CounselorProfileFactory
from tests.groups.factories import open_group


def send(page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")


def test_three_clients_take_seats_and_chat_under_pseudonyms(new_context):
    counselor = CounselorProfileFactory(display_name="Chen Mo")
    group = open_group(counselor, capacity=3)
    clients = [ClientFactory(username=name) for name in ("river", "maple", "harbor")]
    pages = []
    for i, client in enumerate(clients, start=1):
        page = new_context(client).new_page()
        page.goto(f"/groups/{group.pk}/")
        expect(page.locator("#rules-heading")).to_have_text("Group rules")
        page.get_by_label("I have read the group rules and will keep them.").check()
        page.get_by_role("button", name="Take a seat").click()
        expect(page.locator("#my-seat")).to_contain_text(f"Participant {i}")
        pages.append(page)
    screenshot(pages[0], "group-seat-taken")
    # A fourth client finds the group full.
    late = new_context(ClientFactory(username="late")).new_page()
    late.goto(f"/groups/{group.pk}/")
    expect(late.get_by_role("button", name="Full")).to_be_disabled()

    # The group starts.
    GroupSession.objects.filter(pk=group.pk).update(
        start=timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    )
    counselor_page = new_context(counselor.user).new_page()
    counselor_page.goto(f"/groups/{group.pk}/room/")
    expect(counselor_page.locator("#chat-input")).to_be_enabled()
    for page in pages:
        page.goto(f"/groups/{group.pk}/room/")
        expect(page.locator("#chat-input")).to_be_enabled()
    expect(pages[0].locator("#my-pseudonym")).to_have_text("You are Participant 1")

    send(pages[0], "Hi all, I just finished my degree and feel lost.")
    send(pages[1], "Same here, three months now.")
    send(counselor_page, "Welcome. What does lost feel like this week?")
    for page in (*pages, counselor_page):
        log = page.locator("#messages li")
        expect(log).to_have_count(3)
        expect(log.locator(".msg-sender")).to_contain_text(
            ["Participant 1", "Participant 2", "Counselor"]
        )
        for name in ("river", "maple", "harbor"):
            expect(page.locator("#messages")).not_to_contain_text(name)
            expect(page.locator("#participants")).not_to_contain_text(name)
    expect(pages[2].locator("#participants li")).to_have_count(4)  # the counselor and three seats
    screenshot(pages[2], "group-room-participant")

    # The counselor mutes Participant 2: their composer closes and they are told.
    counselor_page.locator('#participants li[data-seat="2"] button[data-action="mute"]').click()
    expect(pages[1].locator("#chat-input")).to_be_disabled()
    expect(pages[1].locator("#room-notice")).to_contain_text("muted you")
    expect(pages[0].locator('#participants li[data-seat="2"]')).to_contain_text("muted")
    screenshot(counselor_page, "group-room-counselor")
