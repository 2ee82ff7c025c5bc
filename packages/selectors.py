"""Reads of packages: what is on offer, and a client's own purchases."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from counselors.models import CounselorProfile
from packages.models import Package, PackagePurchase


def package_list_published(*, counselor_id: int | None = None) -> QuerySet[Package]:
    """Packages on offer: the platform's and those of listed counselors (`counselor_id`:
    that counselor's only)."""
    listed = Q(
        counselor__verification=CounselorProfile.Verification.VERIFIED,
        counselor__is_active=True,
        counselor__user__is_active=True,
    )
    qs = (
        Package.objects.filter(status=Package.Status.PUBLISHED)
        .filter(Q(counselor__isnull=True) | listed)
        .select_related("counselor")
        .prefetch_related("items")
    )
    if counselor_id is not None:
        qs = qs.filter(counselor_id=counselor_id)
    return qs.order_by("counselor_id", "life_stage", "pk")


def package_list_for_owner(*, user: User) -> QuerySet[Package]:
    """The packages a counselor defined (every status), or for staff every platform one."""
    if user.is_staff_member:
        return Package.objects.filter(counselor__isnull=True).prefetch_related("items")
    return Package.objects.filter(counselor__user=user).prefetch_related("items")


def purchase_list_for_client(*, user: User) -> QuerySet[PackagePurchase]:
    """The client's own purchases, newest first (never anyone else's)."""
    return (
        PackagePurchase.objects.filter(client_id=user.pk)
        .select_related("package", "package__counselor", "counselor")
        .prefetch_related("package__items")
    )


def purchase_duration_for(*, client: User, purchase_id: int) -> int:
    """The session length of one of the client's purchases (a booking that names the package
    and no length takes it); 400 on `package` for one that is not theirs."""
    minutes = (
        PackagePurchase.objects.filter(pk=purchase_id, client_id=client.pk)
        .values_list("duration_minutes", flat=True)
        .first()
    )
    if minutes is None:
        raise ValidationError({"package": _("You have no package with this id.")})
    return minutes


def purchases_bookable(*, user: User, counselor_id: int | None = None) -> list[PackagePurchase]:
    """The client's purchases a booking can use now: active, sessions left, not ended (and
    with `counselor_id`, usable with that counselor)."""
    now = timezone.now()
    qs = purchase_list_for_client(user=user).filter(
        status=PackagePurchase.Status.ACTIVE, expires_at__gt=now
    )
    if counselor_id is not None:
        qs = qs.filter(Q(counselor__isnull=True) | Q(counselor_id=counselor_id))
    return [p for p in qs if p.sessions_left > 0]
