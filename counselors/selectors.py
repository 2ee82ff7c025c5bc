from django.db.models import QuerySet

from core.export import iso, money
from counselors.models import CounselorProfile, Specialty


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


def counselor_profile_export(*, user) -> dict | None:
    """A counselor's profile, credentials and windows, for their data export (None if none)."""
    profile = CounselorProfile.objects.filter(pk=user.pk).prefetch_related("specialties").first()
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "specialties": sorted(s.slug for s in profile.specialties.all()),
        "languages": profile.languages,
        "modes": profile.modes,
        "price_15": money(profile.price_15),
        "price_30": money(profile.price_30),
        "daily_cap": profile.daily_cap,
        "min_notice_minutes": profile.min_notice_minutes,
        "buffer_minutes": profile.buffer_minutes,
        "verification": profile.verification,
        "is_active": profile.is_active,
        "rating": money(profile.rating),
        "review_count": profile.review_count,
        "credentials": [
            {
                "licence_type": c.licence_type,
                "number": c.number,
                "issuing_body": c.issuing_body,
                "valid_until": iso(c.valid_until),
                "added_at": iso(c.created_at),
            }
            for c in profile.credentials.order_by("created_at", "pk")
        ],
        "availability_windows": [
            {
                "kind": w.kind,
                "start": iso(w.start),
                "end": iso(w.end),
                "weekday": w.weekday,
                "start_time": iso(w.start_time),
                "end_time": iso(w.end_time),
                "timezone": w.timezone or None,
                "valid_from": iso(w.valid_from),
                "valid_until": iso(w.valid_until),
            }
            for w in profile.windows.order_by("created_at", "pk")
        ],
    }


def specialty_list() -> QuerySet[Specialty]:
    """The topic taxonomy, by slug."""
    return Specialty.objects.order_by("slug")
