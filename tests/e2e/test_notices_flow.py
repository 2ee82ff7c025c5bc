"""A signed-in client sees a session reminder in the header of every page, in their zone,
dismisses it from the page they are on, and turns reminder e-mails off on the account page."""

import datetime as dt

from playwright.sync_api import expect

from accounts.models import Notice, NotificationPreference
from accounts.services import notice_send
from tests.e2e.conftest import screenshot
from tests.factories import ClientFactory


def test_a_reminder_notice_shows_in_the_header_and_can_be_dismissed(new_context):
    client = ClientFactory(timezone="Europe/London", language="en")
    start = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)  # 10:00 BST
    notice = notice_send(
        user=client,
        kind="reminder_1h",
        params={"booking_id": 7, "start": start.isoformat(), "minutes": 30},
        url="/bookings/",
    )
    page = new_context(client, timezone_id="Europe/London").new_page()
    page.goto("/account/")
    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name="Notices")).to_contain_text("1")
    item = page.locator(f"#unread-notice-{notice.pk}")
    expect(item).to_contain_text("starts in about an hour, at 2026-07-01 10:00 BST")
    screenshot(page, "notice-header")
    item.get_by_role("button", name="Dismiss").click()
    expect(page).to_have_url(f"{page.url.split('/account/')[0]}/account/")
    expect(page.locator(f"#unread-notice-{notice.pk}")).to_have_count(0)
    assert Notice.objects.get(pk=notice.pk).read_at is not None


def test_reminder_emails_are_turned_off_on_the_account_page(new_context):
    client = ClientFactory(language="en")
    page = new_context(client).new_page()
    page.goto("/account/")
    section = page.locator("section", has=page.locator("#notifications-heading"))
    section.get_by_label("Reminders by e-mail").uncheck()
    section.get_by_label("Quiet hours from").fill("22:00")
    section.get_by_label("Quiet hours until").fill("07:00")
    section.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    pref = NotificationPreference.objects.get(user=client)
    assert pref.email_reminders is False
    assert (pref.quiet_start, pref.quiet_end) == (dt.time(22), dt.time(7))
