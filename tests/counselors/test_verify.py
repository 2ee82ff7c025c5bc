import pytest

from counselors.models import CounselorProfile, VerificationRecord
from tests.conftest import api_as
from tests.factories import CounselorProfileFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(db):
    return CounselorProfileFactory(
        user__username="newbie", verification=CounselorProfile.Verification.PENDING
    )


def verify(api, profile_id, **body):
    return api.post(f"/api/v1/counselors/{profile_id}/verify/", body, format="json")


def listed_ids(api):
    return [c["id"] for c in api.get("/api/v1/counselors/").json()["results"]]


def test_staff_approval_marks_counselor_verified(as_staff, pending):
    response = verify(as_staff, pending.pk, approved=True, note="licence checked")
    assert response.status_code == 200, response.json()
    assert response.json()["verification"] == "verified"
    pending.refresh_from_db()
    assert pending.verification == CounselorProfile.Verification.VERIFIED


def test_approved_counselor_is_listed_afterwards(as_staff, anon, pending):
    assert pending.pk not in listed_ids(anon)
    verify(as_staff, pending.pk, approved=True)
    assert pending.pk in listed_ids(anon)
    assert anon.get(f"/api/v1/counselors/{pending.pk}/").status_code == 200


def test_approval_records_reviewer_and_note(as_staff, staff_user, pending):
    verify(as_staff, pending.pk, approved=True, note="licence checked")
    record = VerificationRecord.objects.get(counselor=pending)
    assert record.reviewer == staff_user
    assert record.approved is True
    assert record.note == "licence checked"


def test_rejection_records_a_negative_decision(as_staff, staff_user, pending):
    verify(as_staff, pending.pk, approved=False, note="licence expired")
    record = VerificationRecord.objects.get(counselor=pending)
    assert (record.reviewer, record.approved, record.note) == (staff_user, False, "licence expired")


def test_rejection_unlists_a_verified_counselor(as_staff, anon, counselor):
    assert counselor.pk in listed_ids(anon)
    response = verify(as_staff, counselor.pk, approved=False, note="complaint upheld")
    assert response.status_code == 200
    assert response.json()["verification"] == "rejected"
    assert counselor.pk not in listed_ids(anon)
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/").status_code == 404


def test_rejected_counselor_has_no_bookable_slots(as_staff, anon, counselor):
    verify(as_staff, counselor.pk, approved=False)
    assert anon.get(f"/api/v1/counselors/{counselor.pk}/slots/").status_code == 404


def test_every_decision_is_kept(as_staff, pending):
    verify(as_staff, pending.pk, approved=True, note="first")
    verify(as_staff, pending.pk, approved=False, note="second")
    assert VerificationRecord.objects.filter(counselor=pending).count() == 2
    pending.refresh_from_db()
    assert pending.verification == CounselorProfile.Verification.REJECTED


def test_note_is_optional(as_staff, pending):
    response = verify(as_staff, pending.pk, approved=True)
    assert response.status_code == 200
    assert VerificationRecord.objects.get(counselor=pending).note == ""


def test_superuser_without_staff_role_may_verify(pending):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert verify(api_as(admin), pending.pk, approved=True).status_code == 200


def test_client_gets_403(as_client, pending):
    assert verify(as_client, pending.pk, approved=True).status_code == 403
    pending.refresh_from_db()
    assert pending.verification == CounselorProfile.Verification.PENDING
    assert not VerificationRecord.objects.exists()


def test_counselor_gets_403(as_counselor, pending):
    assert verify(as_counselor, pending.pk, approved=True).status_code == 403
    assert not VerificationRecord.objects.exists()


def test_counselor_cannot_verify_themself(pending):
    assert verify(api_as(pending.user), pending.pk, approved=True).status_code == 403
    pending.refresh_from_db()
    assert pending.verification == CounselorProfile.Verification.PENDING


def test_anonymous_gets_401(anon, pending):
    assert verify(anon, pending.pk, approved=True).status_code == 401


def test_unknown_counselor_is_404(as_staff, db):
    assert verify(as_staff, 987654, approved=True).status_code == 404
    assert not VerificationRecord.objects.exists()


def test_client_id_is_404(as_staff, client_user):
    assert verify(as_staff, client_user.pk, approved=True).status_code == 404


def test_missing_approved_is_400_naming_it(as_staff, pending):
    response = verify(as_staff, pending.pk, note="forgot the decision")
    assert response.status_code == 400
    assert "approved" in response.json()
    assert not VerificationRecord.objects.exists()


def test_non_boolean_approved_is_400(as_staff, pending):
    response = verify(as_staff, pending.pk, approved="perhaps")
    assert response.status_code == 400
    assert "approved" in response.json()
    pending.refresh_from_db()
    assert pending.verification == CounselorProfile.Verification.PENDING


def test_overlong_note_is_400_naming_note(as_staff, pending):
    response = verify(as_staff, pending.pk, approved=True, note="x" * 2001)
    assert response.status_code == 400
    assert "note" in response.json()
    assert not VerificationRecord.objects.exists()


def test_second_staff_member_is_the_recorded_reviewer(pending):
    other = StaffFactory(username="morgan")
    verify(api_as(other), pending.pk, approved=True)
    assert VerificationRecord.objects.get(counselor=pending).reviewer == other
