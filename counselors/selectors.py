from django.db.models import Prefetch, Q, QuerySet

from core.export import iso, money
from counselors.models import (
    CounselorProfile,
    HistoryShare,
    Offering,
    PreferredCounselor,
    Specialty,
    TimeOff,
    ToolkitItem,
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
        .prefetch_related(
            "specialties",
            # The directory lists each counselor's published offerings' titles: one query.
            Prefetch(
                "offerings",
                queryset=Offering.objects.filter(status=Offering.Status.PUBLISHED).order_by(
                    "duration_minutes", "pk"
                ),
                to_attr="published_offerings",
            ),
        )
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
        "offerings": [
            {
                "title_en": o.title_en,
                "title_zh": o.title_zh,
                "description_en": o.description_en,
                "description_zh": o.description_zh,
                "duration_minutes": o.duration_minutes,
                "modes": o.modes,
                "price": money(o.price),
                "status": o.status,
                "unpublished_reason": o.unpublished_reason,
                "items": sorted(i.slug for i in o.items.all()),
                "created_at": iso(o.created_at),
            }
            for o in profile.offerings.prefetch_related("items").order_by("created_at", "pk")
        ],
        "toolkit_items": [
            {
                "kind": i.kind,
                "slug": i.slug,
                "title_en": i.title_en,
                "title_zh": i.title_zh,
                "body_en": i.body_en,
                "body_zh": i.body_zh,
                "fields": i.fields,
                "has_audio": bool(i.audio),
                "created_at": iso(i.created_at),
            }
            for i in profile.toolkit_items.order_by("created_at", "pk")
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


# --- Offerings and toolkit items ---------------------------------------------------------------


def _offerings_with_details(queryset: QuerySet[Offering]) -> QuerySet[Offering]:
    return queryset.select_related("counselor__user").prefetch_related(
        "specialties", Prefetch("items", queryset=ToolkitItem.objects.order_by("kind", "pk"))
    )


def offerings_list(*, counselor_id: int | None = None) -> QuerySet[Offering]:
    """Published offerings of listed counselors (the public's view), one counselor's if given."""
    offerings = Offering.objects.filter(
        status=Offering.Status.PUBLISHED,
        counselor__verification=CounselorProfile.Verification.VERIFIED,
        counselor__is_active=True,
        counselor__user__is_active=True,
    )
    if counselor_id is not None:
        offerings = offerings.filter(counselor_id=counselor_id)
    return _offerings_with_details(offerings).order_by("counselor_id", "duration_minutes", "pk")


def offering_get_published(*, offering_id: int) -> Offering:
    """A published offering of a listed counselor, as booking takes it; Offering.DoesNotExist
    (404) for any other, withdrawn and unpublished ones included."""
    return offerings_list().get(pk=offering_id)


def offerings_for_counselor(*, counselor: CounselorProfile) -> QuerySet[Offering]:
    """All of the counselor's own offerings, whatever their status, newest first."""
    return _offerings_with_details(Offering.objects.filter(counselor=counselor)).order_by(
        "-created_at", "-pk"
    )


def offering_get_for_counselor(*, counselor: CounselorProfile, offering_id: int) -> Offering:
    """The counselor's own offering; another's is Offering.DoesNotExist (404)."""
    return offerings_for_counselor(counselor=counselor).get(pk=offering_id)


def offerings_for_staff() -> QuerySet[Offering]:
    """Every offering for the staff review page, published first, newest first."""
    return _offerings_with_details(Offering.objects.all()).order_by("-status", "-created_at", "-pk")


def toolkit_items_for_counselor(*, counselor: CounselorProfile) -> QuerySet[ToolkitItem]:
    """The items a counselor may use: the library's and their own (library first)."""
    return ToolkitItem.objects.filter(Q(owner__isnull=True) | Q(owner=counselor)).order_by(
        "-owner_id", "kind", "pk"
    )


def toolkit_item_get_for_counselor(*, counselor: CounselorProfile, item_id: int) -> ToolkitItem:
    """A library item or the counselor's own; another counselor's is ToolkitItem.DoesNotExist."""
    return toolkit_items_for_counselor(counselor=counselor).get(pk=item_id)


def toolkit_items_public(*, counselor_id: int | None = None) -> QuerySet[ToolkitItem]:
    """What anyone may read: the library and, with `counselor_id`, that listed counselor's own
    items that one of their published offerings lists."""
    visible = Q(owner__isnull=True)
    if counselor_id is not None:
        published = offerings_list(counselor_id=counselor_id)
        visible |= Q(owner_id=counselor_id, offerings__in=published)
    return ToolkitItem.objects.filter(visible).distinct().order_by("-owner_id", "kind", "pk")


def toolkit_item_audio_get_for_user(*, user, item_id: int) -> ToolkitItem:
    """A guided audio item whose file `user` may hear: a library item's or one a published
    offering of a listed counselor lists (anyone), or the counselor's own (only them).
    Anything else is ToolkitItem.DoesNotExist (404)."""
    visible = Q(owner__isnull=True) | Q(offerings__in=offerings_list())
    if user.is_authenticated and user.is_counselor:
        visible |= Q(owner_id=user.pk)
    return (
        ToolkitItem.objects.filter(visible, kind=ToolkitItem.Kind.AUDIO)
        .exclude(audio="")
        .distinct()
        .get(pk=item_id)
    )
