"""The credential verification queue (/staff/verification/)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from counselors.models import CounselorProfile, Credential, VerificationRecord
from tests.ethics.test_escalation_support import SupervisorFactory
from tests.factories import ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db

PENDING = CounselorProfile.Verification.PENDING


def browser(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def applicant(**kwargs) -> CounselorProfile:
    profile = CounselorProfileFactory(verification=PENDING, **kwargs)
    Credential.objects.create(
        counselor=profile,
        licence_type="Psychological counselor (level 2)",
        number=f"PC-{profile.pk}",
        issuing_body="Ministry of Human Resources",
    )
    return profile


@pytest.fixture
def staff(db):
    return StaffFactory()


def test_anonymous_visitor_is_sent_to_log_in():
    response = browser().get(reverse("counselors:staff-verification"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse(settings.LOGIN_URL)
    )


@pytest.mark.parametrize(
    "make", [ClientFactory, SupervisorFactory, lambda: CounselorProfileFactory().user]
)
def test_everyone_but_staff_gets_403(make):
    profile = applicant()
    c = browser(make())
    assert c.get(reverse("counselors:staff-verification")).status_code == 403
    assert (
        c.post(
            reverse("counselors:staff-verify", args=[profile.pk]), {"decision": "approve"}
        ).status_code
        == 403
    )
    profile.refresh_from_db()
    assert profile.verification == PENDING


def test_queue_lists_pending_counselors_with_credentials(staff):
    waiting = applicant(display_name="Waiting Wang")
    CounselorProfileFactory(verification=PENDING, display_name="No Papers")
    CounselorProfileFactory(display_name="Already Verified")
    body = browser(staff).get(reverse("counselors:staff-verification")).content.decode()
    assert "Waiting Wang" in body and f"PC-{waiting.pk}" in body
    assert "No Papers" not in body and "Already Verified" not in body


def test_staff_approve_a_counselor(staff):
    profile = applicant()
    response = browser(staff).post(
        reverse("counselors:staff-verify", args=[profile.pk]),
        {"decision": "approve", "note": "licence checked online"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.verification == CounselorProfile.Verification.VERIFIED
    record = VerificationRecord.objects.get(counselor=profile)
    assert (record.reviewer, record.approved, record.note) == (
        staff,
        True,
        "licence checked online",
    )


def test_staff_reject_a_counselor_with_a_note(staff):
    profile = applicant()
    browser(staff).post(
        reverse("counselors:staff-verify", args=[profile.pk]),
        {"decision": "reject", "note": "expired"},
    )
    profile.refresh_from_db()
    assert profile.verification == CounselorProfile.Verification.REJECTED
    body = (
        browser(staff)
        .get(reverse("counselors:staff-verification") + "?show=rejected")
        .content.decode()
    )
    assert "expired" in body


def test_rejecting_without_a_note_is_400_naming_it(staff):
    profile = applicant()
    response = browser(staff).post(
        reverse("counselors:staff-verify", args=[profile.pk]), {"decision": "reject", "note": ""}
    )
    assert response.status_code == 400
    assert f'id="verify{profile.pk}_note_error"' in response.content.decode()
    profile.refresh_from_db()
    assert profile.verification == PENDING and not VerificationRecord.objects.exists()


def test_a_missing_decision_is_400_naming_it(staff):
    profile = applicant()
    response = browser(staff).post(
        reverse("counselors:staff-verify", args=[profile.pk]), {"note": "hm"}
    )
    assert response.status_code == 400
    assert f'id="verify{profile.pk}_decision_error"' in response.content.decode()
    assert not VerificationRecord.objects.exists()


def test_unknown_counselor_is_404(staff):
    assert (
        browser(staff)
        .post(reverse("counselors:staff-verify", args=[999999]), {"decision": "approve"})
        .status_code
        == 404
    )


def test_queue_renders_in_chinese(staff):
    applicant()
    c = browser(staff)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = c.get(reverse("counselors:staff-verification")).content.decode()
    assert "资质审核" in body and "记录审核决定" in body and "Record the decision" not in body
