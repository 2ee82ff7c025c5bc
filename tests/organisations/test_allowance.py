"""The allowance's accounting: who it pays for, the caps, quarters in the platform's zone,
releases, and the database's backstop."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from organisations.models import AllowanceClaim, MemberQuarter, PoolQuarter, Refusal
from organisations.selectors import member_allowance_for_user, quarter_start
from organisations.services import allowance_claim, allowance_release, allowance_set
from tests.factories import ClientFactory
from tests.organisations.factories import AllowanceFactory, MembershipFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)


def member_of(allowance, **kwargs):
    return MembershipFactory(organisation=allowance.organisation, **kwargs).user


def claim(user, *, duration=30, mode="text", at=AT):
    return allowance_claim(client=user, duration_minutes=duration, mode=mode, at=at)


def test_a_member_is_paid_for_up_to_their_own_sessions_per_quarter():
    allowance = AllowanceFactory(sessions_per_member=2)
    member = member_of(allowance)
    outcomes = [claim(member) for _ in range(3)]
    assert [o.claim is not None for o in outcomes] == [True, True, False]
    assert outcomes[2].refusal == Refusal.MEMBER_USED_UP
    assert MemberQuarter.objects.get(user=member).used == 2


def test_the_pool_caps_all_members_together():
    allowance = AllowanceFactory(sessions_per_member=5, pool_per_quarter=1)
    first, second = member_of(allowance), member_of(allowance)
    assert claim(first).claim is not None
    refused = claim(second)
    assert refused.claim is None and refused.refusal == Refusal.POOL_USED_UP
    # The refused member's own counter was given back with the savepoint.
    assert MemberQuarter.objects.filter(user=second, used__gt=0).count() == 0


def test_a_client_with_no_organisation_is_not_told_anything():
    outcome = claim(ClientFactory())
    assert outcome.claim is None and outcome.refusal == ""


@pytest.mark.parametrize(
    ("field", "value", "refusal"),
    [
        ("durations", [15], Refusal.DURATION),
        ("modes", ["voice"], Refusal.MODE),
        ("is_active", False, Refusal.INACTIVE),
    ],
)
def test_a_session_the_allowance_does_not_cover_is_refused_with_the_reason(field, value, refusal):
    allowance = AllowanceFactory(**{field: value})
    outcome = claim(member_of(allowance), duration=30, mode="text")
    assert outcome.claim is None and outcome.refusal == refusal
    assert not AllowanceClaim.objects.exists()


def test_quarters_are_calendar_quarters_in_the_platform_zone(settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    # 31 March 17:00 UTC is 1 April 01:00 in Shanghai: the second quarter.
    assert quarter_start(dt.datetime(2026, 3, 31, 17, 0, tzinfo=dt.UTC)) == dt.date(2026, 4, 1)
    assert quarter_start(dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC)) == dt.date(2026, 1, 1)


def test_a_new_quarter_starts_with_the_full_allowance():
    allowance = AllowanceFactory(sessions_per_member=1)
    member = member_of(allowance)
    assert claim(member, at=AT).claim is not None
    assert claim(member, at=AT).claim is None
    assert claim(member, at=AT + dt.timedelta(days=60)).claim is not None


def test_a_release_gives_the_session_back_once():
    allowance = AllowanceFactory(sessions_per_member=1)
    member = member_of(allowance)
    taken = claim(member).claim
    assert allowance_release(claim_id=taken.pk) is True
    assert allowance_release(claim_id=taken.pk) is False
    assert MemberQuarter.objects.get(user=member).used == 0
    assert PoolQuarter.objects.get().used == 0
    assert claim(member).claim is not None


def test_lowering_the_allowance_takes_no_session_back():
    allowance = AllowanceFactory(sessions_per_member=3, pool_per_quarter=10)
    member = member_of(allowance)
    claim(member)
    claim(member)
    allowance_set(
        organisation=allowance.organisation,
        sessions_per_member=1,
        pool_per_quarter=1,
        durations=[15, 30],
        modes=["text"],
        now=AT,
    )
    assert MemberQuarter.objects.get(user=member).cap == 2  # what is used, not below
    assert PoolQuarter.objects.get().cap == 2
    assert claim(member).refusal == Refusal.MEMBER_USED_UP


def test_a_bad_allowance_is_a_400_naming_each_field_and_changes_nothing():
    from django.core.exceptions import ValidationError

    allowance = AllowanceFactory(sessions_per_member=2)
    with pytest.raises(ValidationError) as error:
        allowance_set(
            organisation=allowance.organisation,
            sessions_per_member=-1,
            pool_per_quarter=5,
            durations=[45],
            modes=[],
        )
    assert set(error.value.error_dict) == {"sessions_per_member", "durations", "modes"}
    allowance.refresh_from_db()
    assert allowance.sessions_per_member == 2


def test_the_database_refuses_a_counter_above_its_cap():
    allowance = AllowanceFactory(sessions_per_member=1)
    claim(member_of(allowance))
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberQuarter.objects.update(used=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        PoolQuarter.objects.update(used=11)


def test_the_member_sees_what_is_left_this_quarter():
    allowance = AllowanceFactory(sessions_per_member=3, pool_per_quarter=2)
    member, other = member_of(allowance), member_of(allowance)
    claim(other, at=AT)
    mine = member_allowance_for_user(user=member, now=AT)
    assert mine.remaining == 1  # three of their own, but the pool has one left
    assert mine.quarter_label == "2026 Q4"
