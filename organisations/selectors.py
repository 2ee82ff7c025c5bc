"""The organisations reads that decide who may see what.

A member sees their own organisation and what is left of their own allowance; an admin sees
their organisation's settings (its usage comes only through insights, k-anonymous). Nothing
here lists members, claims or anything that leads to a person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from organisations.models import (
    Allowance,
    MemberQuarter,
    Membership,
    Organisation,
    OrganisationAdmin,
    PoolQuarter,
)


def platform_zone() -> ZoneInfo:
    return ZoneInfo(settings.PLATFORM_TIME_ZONE)


def quarter_start(at: dt.datetime) -> dt.date:
    """The first day of the calendar quarter holding `at`, in the platform's zone (a session
    at 23:30 UTC on 31 March is already in Q2 in Shanghai)."""
    local = at.astimezone(platform_zone())
    return dt.date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)


def quarter_label(quarter: dt.date) -> str:
    return f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"


def membership_for_user(*, user) -> Membership | None:
    """The user's membership, with its organisation and allowance, or None."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organisation", "organisation__allowance")
        .filter(user=user)
        .first()
    )


def organisation_administered_by(*, user) -> Organisation | None:
    """The organisation `user` administers, or None (anonymous, or no admin)."""
    if not user.is_authenticated:
        return None
    row = OrganisationAdmin.objects.select_related("organisation").filter(user=user).first()
    return row.organisation if row else None


def organisation_admin_may_read(*, user, organisation: Organisation) -> bool:
    return (
        user.is_authenticated
        and OrganisationAdmin.objects.filter(user=user, organisation=organisation).exists()
    )


def allowance_of(organisation: Organisation) -> Allowance | None:
    try:
        return organisation.allowance
    except Allowance.DoesNotExist:
        return None


@dataclass(frozen=True)
class MemberAllowance:
    """What a member may still use this quarter: their own sessions left, bounded by what is
    left of the pool (the pool's number itself is not shown to a member)."""

    organisation: Organisation
    allowance: Allowance | None
    quarter: dt.date
    remaining: int

    @property
    def quarter_label(self) -> str:
        return quarter_label(self.quarter)


def member_allowance_for_user(*, user, now: dt.datetime | None = None) -> MemberAllowance | None:
    """The member's organisation and remaining allowance this quarter, or None if `user` is
    no member."""
    membership = membership_for_user(user=user)
    if membership is None:
        return None
    organisation = membership.organisation
    allowance = allowance_of(organisation)
    quarter = quarter_start(now or timezone.now())
    if allowance is None or not allowance.is_active or not organisation.is_active:
        return MemberAllowance(organisation, allowance, quarter, 0)
    own = MemberQuarter.objects.filter(allowance=allowance, user=user, quarter=quarter).first()
    pool = PoolQuarter.objects.filter(allowance=allowance, quarter=quarter).first()
    own_left = (own.cap - own.used) if own else allowance.sessions_per_member
    pool_left = (pool.cap - pool.used) if pool else allowance.pool_per_quarter
    return MemberAllowance(organisation, allowance, quarter, max(0, min(own_left, pool_left)))
