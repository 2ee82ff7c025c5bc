"""A real video call between two browser contexts (Chromium's fake camera and microphone):
signalling through the room's socket, RTCPeerConnection `connected`, video bytes flowing in
both directions, then hang up."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory

CONNECTED = "() => window.piankeRoom?.pc?.connectionState === 'connected'"

# Bytes of video received so far on the page's peer connection (0 without one).
INBOUND_VIDEO_BYTES = """async () => {
  const pc = window.piankeRoom?.pc;
  if (!pc) return 0;
  let bytes = 0;
  (await pc.getStats()).forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') bytes += report.bytesReceived || 0;
  });
  return bytes;
}"""


def video_booking():
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    return BookingFactory(
        counselor=CounselorProfileFactory(display_name="Lin Yue"),
        client=ClientFactory(username="harbour"),
        mode="video",
        start=start,
        end=start + dt.timedelta(minutes=30),
    )


def join_room(ctx, booking):
    page = ctx.new_page()
    page.goto(f"/sessions/{booking.pk}/")
    join = page.get_by_role("button", name="Start camera and microphone")
    expect(join).to_be_enabled()  # the room's socket is configured
    return page, join


def wait_for_inbound_video_growing(page) -> None:
    page.wait_for_function(f"async () => ({INBOUND_VIDEO_BYTES})() > 0")
    first = page.evaluate(INBOUND_VIDEO_BYTES)
    page.wait_for_function(f"async () => ({INBOUND_VIDEO_BYTES})() > {first}")


def test_video_call_connects_with_video_flowing_both_ways_then_hangs_up(new_context):
    booking = video_booking()
    client_page, client_join = join_room(new_context(booking.client), booking)
    counselor_page, counselor_join = join_room(new_context(booking.counselor.user), booking)

    client_join.click()
    expect(counselor_page.locator("#call-status")).to_have_text(
        "harbour started the call. Join when you are ready."
    )
    counselor_join.click()

    for page in (client_page, counselor_page):
        page.wait_for_function(CONNECTED)
        expect(page.locator("#call-status")).to_have_text("Call connected.")
        wait_for_inbound_video_growing(page)
        expect(page.get_by_role("button", name="Mute")).to_be_visible()
        expect(page.get_by_role("button", name="Turn camera off")).to_be_visible()
    screenshot(client_page, "room-video-client")
    screenshot(counselor_page, "room-video-counselor")

    client_page.get_by_role("button", name="Mute").click()
    expect(client_page.get_by_role("button", name="Unmute")).to_have_attribute(
        "aria-pressed", "true"
    )
    client_page.get_by_role("button", name="Turn camera off").click()
    expect(client_page.get_by_role("button", name="Turn camera on")).to_have_attribute(
        "aria-pressed", "true"
    )

    client_page.get_by_role("button", name="Hang up").click()
    expect(client_page.get_by_role("button", name="Hang up")).to_be_hidden()
    assert client_page.evaluate("window.piankeRoom.pc") is None
    assert client_page.evaluate("document.getElementById('local-video').srcObject") is None
    expect(counselor_page.locator("#call-status")).to_have_text("harbour left the call.")
    # The counselor stays in the call: the client can come back to it.
    expect(client_page.locator("#call-status")).to_have_text(
        "Lin Yue started the call. Join when you are ready."
    )
    expect(client_page.get_by_role("button", name="Start camera and microphone")).to_be_visible()


def test_a_reload_during_a_call_reconnects_it(new_context):
    booking = video_booking()
    client_page, client_join = join_room(new_context(booking.client), booking)
    counselor_page, counselor_join = join_room(new_context(booking.counselor.user), booking)
    counselor_join.click()
    client_join.click()
    for page in (client_page, counselor_page):
        page.wait_for_function(CONNECTED)

    client_page.reload()  # back in the call without clicking: the tab remembers it was in one
    for page in (client_page, counselor_page):
        page.wait_for_function(CONNECTED)
        wait_for_inbound_video_growing(page)
