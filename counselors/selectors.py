from django.db.models import QuerySet

from counselors.models import CounselorProfile


def counselor_list_listed() -> QuerySet[CounselorProfile]:
    """Counselors clients may see and book: verified, active, with an active account."""
    return (
        CounselorProfile.objects.filter(
            verification=CounselorProfile.Verification.VERIFIED,
            is_active=True,
            user__is_active=True,
        )
        .select_related("user")
        .prefetch_related("specialties")
        .order_by("pk")
    )


def counselor_get_listed(*, counselor_id: int) -> CounselorProfile:
    return counselor_list_listed().get(pk=counselor_id)
