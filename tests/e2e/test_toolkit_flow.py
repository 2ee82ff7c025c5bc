"""The toolkit in the browser: after a session booked as an offering, the client fills in
the offering's emotion diary and shares the entry; the counselor sees it in the room."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from listening.models import Booking, ToolkitEntry
from tests.e2e.conftest import screenshot
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OfferingFactory,
    ToolkitItemFactory,
)

DIARY_FIELDS = [
    {"key": "situation", "label_en": "Situation", "label_zh": "情境", "type": "text"},
    {"key": "emotion", "label_en": "Emotion", "label_zh": "情绪", "type": "text"},
    {"key": "intensity", "label_en": "Intensity", "label_zh": "强度", "type": "scale"},
    {"key": "reframe", "label_en": "Another way to see it", "label_zh": "换个角度", "type": "text"},
]


def test_client_fills_and_shares_a_diary_entry_and_the_counselor_sees_it(new_context):
    counselor = CounselorProfileFactory(display_name="Zhou Ning", user__language="en")
    diary = ToolkitItemFactory(
        owner=counselor,
        slug="e2e-diary",
        kind="diary",
        title_en="Evening diary",
        fields=DIARY_FIELDS,
    )
    offering = OfferingFactory(
        counselor=counselor, title_en="Turning a thought around", items=[diary]
    )
    end = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    booking = BookingFactory(
        counselor=counselor,
        client=ClientFactory(username="lantern", language="en"),
        start=end - dt.timedelta(minutes=15),
        end=end,
        duration_minutes=15,
        offering=offering,
        status=Booking.Status.COMPLETED,
    )

    client_page = new_context(booking.client).new_page()
    client_page.goto("/toolkit/")
    card = client_page.locator(f"#tool-{diary.pk}-{booking.pk}")
    expect(card.get_by_role("heading", name="Evening diary")).to_be_visible()
    card.get_by_label("Situation").fill("The meeting ran late and I snapped at my partner")
    card.get_by_label("Emotion").fill("guilty")
    card.get_by_label("Intensity").fill("6")
    card.get_by_label("Another way to see it").fill("I was tired, not a bad person")
    card.get_by_label("Share this entry with Zhou Ning").check()
    card.get_by_role("button", name="Save entry").click()
    expect(client_page.get_by_text("Saved and shared with your counselor.")).to_be_visible()
    entry = ToolkitEntry.objects.get()
    assert entry.shared_at is not None
    expect(client_page.locator(f"#entry-{entry.pk}")).to_contain_text("Shared with your counselor")
    screenshot(client_page, "toolkit-client")

    counselor_page = new_context(counselor.user).new_page()
    counselor_page.goto(f"/sessions/{booking.pk}/")
    shared = counselor_page.locator(f"#shared-entry-{entry.pk}")
    expect(shared).to_contain_text("I was tired, not a bad person")
    expect(shared).to_contain_text("Evening diary")
    screenshot(counselor_page, "toolkit-counselor")

    # Unsharing takes it away from the counselor at once.
    client_page.locator(f"#entry-{entry.pk}").get_by_role("button", name="Stop sharing").click()
    expect(client_page.get_by_text("No longer shared.")).to_be_visible()
    counselor_page.reload()
    expect(counselor_page.locator(f"#shared-entry-{entry.pk}")).to_have_count(0)
