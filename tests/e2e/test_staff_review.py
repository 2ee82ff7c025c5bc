"""Staff at work: a complaint flag reviewed and resolved through the review pages (with the
audited content view), and a counselor's credentials approved from the verification queue."""

import datetime as dt
import uuid

from django.utils import timezone
from playwright.sync_api import expect

from counselors.models import CounselorProfile, Credential
from ethics.models import AuditLog, EthicsFlag
from listening.services import message_post
from oversight import services as review
from tests.e2e.conftest import screenshot
from tests.factories import BookingFactory, ClientFactory, CounselorProfileFactory, StaffFactory


def test_staff_resolve_a_complaint_flag_through_the_review_pages(new_context):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    booking = BookingFactory(
        counselor=CounselorProfileFactory(display_name="Wong Ka Man"),
        client=ClientFactory(username="pebble"),
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    message_post(
        booking_id=booking.pk,
        sender=booking.counselor.user,
        uid=uuid.uuid4(),
        text="You are overreacting, honestly.",
        live=True,
        notify=False,
    )
    flag = review.complaint_create(
        client=booking.client, booking_id=booking.pk, text="The counselor dismissed what I said."
    ).flag
    EthicsFlag.objects.create(kind=EthicsFlag.Kind.QUALITY, summary="3 ratings of 1 in a row")
    staff = StaffFactory(username="sam")

    page = new_context(staff).new_page()
    page.goto("/staff/flags/")
    page.get_by_label("Kind").select_option("complaint")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=f"Complaint #{flag.pk}")).to_be_visible()
    expect(page.get_by_role("cell", name="3 ratings of 1 in a row")).to_have_count(0)
    screenshot(page, "staff-flags")

    page.get_by_role("link", name=f"Complaint #{flag.pk}").click()
    expect(page.get_by_role("heading", name=f"Complaint flag {flag.pk}")).to_be_visible()
    expect(page.get_by_text("The counselor dismissed what I said.")).to_be_visible()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".messages")).to_contain_text("The flag is yours")

    page.get_by_role("link", name="Read the session content").click()
    page.get_by_role("button", name="Read the content").click()
    expect(page.get_by_text("You are overreacting, honestly.")).to_be_visible()
    assert (
        AuditLog.objects.filter(flag=flag, actor=staff, action=AuditLog.Action.READ_CONTENT).count()
        == 1
    )
    page.get_by_role("link", name=f"Back to flag {flag.pk}").click()

    page.get_by_label("Add a note").fill("Listened to both sides; the tone was dismissive.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#notes")).to_contain_text("the tone was dismissive")

    page.get_by_label("Warn the counselor").check()
    page.get_by_label("Resolution (what was found and decided)").fill(
        "Counselor warned about dismissive language."
    )
    screenshot(page, "staff-flag-detail")
    page.get_by_role("button", name="Resolve the flag").click()
    expect(page.locator(".messages")).to_contain_text(f"Flag {flag.pk} resolved.")
    expect(page.get_by_role("heading", name="Resolution")).to_be_visible()
    expect(page.locator(".audit")).to_contain_text("Read session content")
    flag.refresh_from_db()
    assert (flag.status, flag.action, flag.resolved_by) == ("resolved", "warn", staff)


def test_staff_approve_a_counselor_from_the_verification_queue(new_context):
    applicant = CounselorProfileFactory(
        display_name="New Counselor Qin", verification=CounselorProfile.Verification.PENDING
    )
    Credential.objects.create(
        counselor=applicant,
        licence_type="Registered counsellor",
        number="RC-2048",
        issuing_body="Chinese Psychological Society",
    )
    staff = StaffFactory()
    page = new_context(staff).new_page()
    page.goto("/staff/verification/")
    card = page.locator(f"#counselor-{applicant.pk}")
    expect(card).to_contain_text("RC-2048")
    screenshot(page, "staff-verification")
    card.get_by_label("Approve: list the counselor").check()
    card.get_by_label("Note (what was checked; required when rejecting)").fill(
        "Checked on the CPS register."
    )
    card.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".messages")).to_contain_text(
        "New Counselor Qin is verified and now listed."
    )
    expect(page.locator(f"#counselor-{applicant.pk}")).to_have_count(0)
    applicant.refresh_from_db()
    assert applicant.verification == CounselorProfile.Verification.VERIFIED
