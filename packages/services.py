"""The rules of packages: defining one (a counselor, or staff for the platform), buying it,
and the claims that booking services make on a purchase's sessions.

Claims are a conditional UPDATE of the purchase's counter (`sessions_used + 1 WHERE
sessions_used < sessions_total`) after locking the purchase row: of two bookings racing for
the last session exactly one updates a row, the other gets 409 `package_used_up`. The CHECK
constraint `sessions_used <= sessions_total` is the backstop."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from billing.services import (
    ledger_package_consume,
    ledger_package_expire,
    ledger_package_purchase,
    package_credit_left,
)
from core.exceptions import Conflict
from counselors.models import CounselorProfile
from counselors.services import toolkit_items_named
from packages.models import (
    PACKAGE_SESSIONS_MAX,
    PACKAGE_SESSIONS_MIN,
    PACKAGE_WITHIN_DAYS_MAX,
    PACKAGE_WITHIN_DAYS_MIN,
    LifeStage,
    Package,
    PackagePurchase,
)


def _owner_of(user: User) -> CounselorProfile | None:
    """The counselor a new package belongs to (None: staff define platform packages)."""
    if user.is_staff_member:
        return None
    if not user.is_counselor:
        raise PermissionDenied(_("Only counselors and staff define packages."))
    try:
        profile = user.counselor_profile
    except ObjectDoesNotExist as exc:
        raise PermissionDenied(_("Only counselors and staff define packages.")) from exc
    if not profile.is_listed:
        raise PermissionDenied(_("Only a verified, active counselor can offer packages."))
    return profile


@transaction.atomic
def package_create(
    *,
    user: User,
    life_stage: str,
    sessions: int,
    duration_minutes: int,
    within_days: int,
    price: Decimal,
    title_en: str = "",
    title_zh: str = "",
    description_en: str = "",
    description_zh: str = "",
    items: list[int] | None = None,
) -> Package:
    """Publish a package: a counselor's own, or (staff) the platform's. Each rule broken is a
    400 naming its field, and nothing is saved."""
    owner = _owner_of(user)
    errors: dict[str, str] = {}
    if life_stage not in LifeStage.values:
        errors["life_stage"] = _("Choose one of the life stages.")
    if not (title_en.strip() or title_zh.strip()):
        errors["title_en"] = _("Give the package a title in English or Chinese.")
    if not PACKAGE_SESSIONS_MIN <= sessions <= PACKAGE_SESSIONS_MAX:
        errors["sessions"] = _("A package has %(low)s to %(high)s sessions.") % {
            "low": PACKAGE_SESSIONS_MIN,
            "high": PACKAGE_SESSIONS_MAX,
        }
    if duration_minutes not in (15, 30):
        errors["duration_minutes"] = _("Package sessions last 15 or 30 minutes.")
    if not PACKAGE_WITHIN_DAYS_MIN <= within_days <= PACKAGE_WITHIN_DAYS_MAX:
        errors["within_days"] = _("The sessions are held within %(low)s to %(high)s days.") % {
            "low": PACKAGE_WITHIN_DAYS_MIN,
            "high": PACKAGE_WITHIN_DAYS_MAX,
        }
    # The platform's price bounds (OFFERING_PRICE_MIN–MAX) hold for the package as a whole.
    if not (price > 0 and settings.OFFERING_PRICE_MIN <= price <= settings.OFFERING_PRICE_MAX):
        errors["price"] = _("The price must be more than nothing and at most %(high)s.") % {
            "high": settings.OFFERING_PRICE_MAX
        }
    if errors:
        raise ValidationError(errors)
    found = toolkit_items_named(counselor=owner, item_ids=items or [])
    package = Package.objects.create(
        counselor=owner,
        life_stage=life_stage,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        description_en=description_en.strip(),
        description_zh=description_zh.strip(),
        sessions=sessions,
        duration_minutes=duration_minutes,
        within_days=within_days,
        price=price,
        created_by=user,
        created_at=timezone.now(),
    )
    package.items.set(found)
    return package


@transaction.atomic
def package_withdraw(*, user: User, package_id: int) -> Package:
    """Stop selling a package (its owner, or staff for any). Purchases already made keep
    their sessions until they expire."""
    package = Package.objects.select_for_update().get(pk=package_id)
    if not user.is_staff_member:
        owner = _owner_of(user)
        if package.counselor_id is None or package.counselor_id != owner.pk:
            raise Package.DoesNotExist("not the caller's package")
    if package.status != Package.Status.PUBLISHED:
        raise Conflict(_("This package is already withdrawn."), code="package_withdrawn")
    package.status = Package.Status.WITHDRAWN
    package.save(update_fields=["status"])
    return package


@transaction.atomic
def package_buy(*, client: User, package_id: int) -> PackagePurchase:
    """A client buys a published package once: its price is collected through the ledger
    and kept as prepaid credit, spent one session share at a time. A second purchase of the
    same package while one still has sessions left is a 409 `already_bought`."""
    if not client.is_client:
        raise PermissionDenied(_("Only clients buy packages."))
    User.objects.select_for_update().filter(pk=client.pk).first()  # one purchase at a time
    package = Package.objects.select_related("counselor", "counselor__user").get(pk=package_id)
    if package.status != Package.Status.PUBLISHED or (
        package.counselor is not None and not package.counselor.is_listed
    ):
        raise Conflict(_("This package is not on offer any more."), code="package_unavailable")
    now = timezone.now()
    if PackagePurchase.objects.filter(
        client=client,
        package=package,
        status=PackagePurchase.Status.ACTIVE,
        expires_at__gt=now,
        sessions_used__lt=F("sessions_total"),
    ).exists():
        raise Conflict(
            _("You already have this package with sessions left."), code="already_bought"
        )
    purchase = PackagePurchase.objects.create(
        package=package,
        client=client,
        counselor=package.counselor,
        sessions_total=package.sessions,
        duration_minutes=package.duration_minutes,
        price_paid=package.price,
        purchased_at=now,
        expires_at=now + dt.timedelta(days=package.within_days),
    )
    ledger_package_purchase(purchase_id=purchase.pk, client_id=client.pk, amount=package.price)
    return purchase


@transaction.atomic
def package_session_claim(
    *,
    client: User,
    purchase_id: int,
    counselor_id: int,
    duration_minutes: int | None,
    start: dt.datetime,
) -> PackagePurchase:
    """Claim one session of a purchase for a booking being made (call in the booking's
    transaction, then `package_session_pay` once the booking row exists). 400 on `package`
    for a purchase that is not the client's, on `counselor` or `duration_minutes` when the
    booking does not fit it; 409 `package_expired` when the session would start after the
    purchase ends, `package_used_up` when no session is left (the conditional UPDATE)."""
    purchase = (
        PackagePurchase.objects.select_for_update()
        .filter(pk=purchase_id, client_id=client.pk)
        .first()
    )
    if purchase is None:
        raise ValidationError({"package": _("You have no package with this id.")})
    if purchase.counselor_id is not None and purchase.counselor_id != counselor_id:
        raise ValidationError({"counselor": _("This package is booked with its own counselor.")})
    if duration_minutes is not None and duration_minutes != purchase.duration_minutes:
        raise ValidationError(
            {
                "duration_minutes": _("This package's sessions last %(minutes)s minutes.")
                % {"minutes": purchase.duration_minutes}
            }
        )
    if purchase.status != PackagePurchase.Status.ACTIVE or start >= purchase.expires_at:
        raise Conflict(
            _("This package's sessions must be held before it ends."), code="package_expired"
        )
    claimed = PackagePurchase.objects.filter(
        pk=purchase.pk, sessions_used__lt=F("sessions_total")
    ).update(sessions_used=F("sessions_used") + 1)
    if not claimed:
        raise Conflict(_("This package has no sessions left."), code="package_used_up")
    purchase.refresh_from_db()
    return purchase


def package_session_amount(*, purchase: PackagePurchase):
    """What the session just claimed is worth: one session's share, the last session the
    rest of the credit (so rounding never leaves a fen behind). Precondition:
    `package_session_claim` in the same transaction (the purchase row is locked)."""
    if purchase.sessions_used == purchase.sessions_total:
        return package_credit_left(purchase_id=purchase.pk)
    return purchase.session_share


def package_session_pay(
    *, purchase: PackagePurchase, booking_id: int, counselor_id: int, amount
) -> None:
    """Pay the booking `amount` (`package_session_amount`) from the purchase's credit."""
    ledger_package_consume(
        purchase_id=purchase.pk,
        booking_id=booking_id,
        client_id=purchase.client_id,
        counselor_id=counselor_id,
        amount=amount,
    )


def package_session_move_check(*, purchase_id: int, start: dt.datetime) -> None:
    """A package session moved to `start` must still be held before the purchase ends
    (409 `package_expired`)."""
    expires_at = PackagePurchase.objects.values_list("expires_at", flat=True).get(pk=purchase_id)
    if start >= expires_at:
        raise Conflict(
            _("This package's sessions must be held before it ends."), code="package_expired"
        )


@transaction.atomic
def package_session_return(*, purchase_id: int) -> None:
    """Give a session back to its purchase (its booking was cancelled in time, or the
    counselor cancelled or did not come): the ledger has returned its credit."""
    PackagePurchase.objects.filter(pk=purchase_id, sessions_used__gt=0).update(
        sessions_used=F("sessions_used") - 1
    )


@transaction.atomic
def package_expire(*, purchase_id: int, now: dt.datetime | None = None) -> bool:
    """End a purchase past its end, once (a conditional update claims it): sessions never
    booked are refunded, like a cancellation made in good time (docs/billing.md)."""
    now = now or timezone.now()
    claimed = PackagePurchase.objects.filter(
        pk=purchase_id, status=PackagePurchase.Status.ACTIVE, expires_at__lte=now
    ).update(status=PackagePurchase.Status.EXPIRED, expired_at=now)
    if claimed:
        ledger_package_expire(purchase_id=purchase_id)
    return bool(claimed)


def packages_expire_due(*, now: dt.datetime | None = None) -> int:
    """Expire every purchase past its end (the beat runs this hourly); returns how many."""
    now = now or timezone.now()
    due = PackagePurchase.objects.filter(
        status=PackagePurchase.Status.ACTIVE, expires_at__lte=now
    ).values_list("pk", flat=True)
    return sum(package_expire(purchase_id=pk, now=now) for pk in list(due))
