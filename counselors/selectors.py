from django.db.models import QuerySet

from core.export import iso, money
from counselors.models import (
    CounselorProfile,
    HistoryShare,
    PreferredCounselor,
    Specialty,
    TimeOff,
)


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


def time_off_for_counselor(*, user) -> QuerySet[TimeOff]:
    """The counselor's own time-off ranges, earliest first."""
    return TimeOff.objects.filter(counselor_id=user.pk).order_by("start_date", "pk")


def counselor_links_export(*, user) -> dict:
    """A counselor's time off, and a client's preferred counselors and history consents
    (granted and withdrawn), for their data export."""
    return {
        "time_off": [
            {
                "start_date": iso(t.start_date),
                "end_date": iso(t.end_date),
                "note": t.note,
                "added_at": iso(t.created_at),
            }
            for t in time_off_for_counselor(user=user)
        ],
        "preferred_counselors": [
            {
                "counselor": str(p.counselor),
                "counselor_id": p.counselor_id,
                "notify_new_windows": p.notify_new_windows,
                "since": iso(p.created_at),
            }
            for p in PreferredCounselor.objects.filter(client=user)
            .select_related("counselor__user")
            .order_by("created_at", "pk")
        ],
        "history_shares": [
            {
                "counselor": str(s.counselor),
                "counselor_id": s.counselor_id,
                "granted_at": iso(s.granted_at),
                "withdrawn_at": iso(s.withdrawn_at),
            }
            for s in HistoryShare.objects.filter(client=user)
            .select_related("counselor__user")
            .order_by("granted_at", "pk")
        ],
    }
