"""The allowance under concurrency, with real threads against PostgreSQL: the last pooled
session goes to exactly one of two members, and a member's last own session to exactly one of
their two tabs. Each thread holds its transaction open a moment after claiming, so the other
one's UPDATE meets the row while it is still locked."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from organisations.models import AllowanceClaim, MemberQuarter, PoolQuarter, Refusal
from organisations.services import allowance_claim
from tests.organisations.factories import AllowanceFactory, MembershipFactory

AT = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)


def race(users) -> list:
    barrier = threading.Barrier(len(users))
    outcomes: list = [None] * len(users)

    def take(i, user):
        try:
            barrier.wait()
            with transaction.atomic():
                outcomes[i] = allowance_claim(client=user, duration_minutes=30, mode="text", at=AT)
                time.sleep(0.3)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_members_racing_for_the_last_pooled_session_one_gets_it():
    allowance = AllowanceFactory(sessions_per_member=3, pool_per_quarter=1)
    first = MembershipFactory(organisation=allowance.organisation).user
    second = MembershipFactory(organisation=allowance.organisation).user
    outcomes = race([first, second])
    assert sorted(o.claim is not None for o in outcomes) == [False, True]
    assert [o.refusal for o in outcomes if o.claim is None] == [Refusal.POOL_USED_UP]
    assert AllowanceClaim.objects.count() == 1
    assert PoolQuarter.objects.get().used == 1
    assert sum(MemberQuarter.objects.values_list("used", flat=True)) == 1


@pytest.mark.django_db(transaction=True)
def test_one_member_in_two_tabs_taking_their_last_session_gets_it_once():
    allowance = AllowanceFactory(sessions_per_member=1, pool_per_quarter=10)
    member = MembershipFactory(organisation=allowance.organisation).user
    outcomes = race([member, member])
    assert sorted(o.claim is not None for o in outcomes) == [False, True]
    assert [o.refusal for o in outcomes if o.claim is None] == [Refusal.MEMBER_USED_UP]
    assert AllowanceClaim.objects.count() == 1
    assert MemberQuarter.objects.get().used == 1
    assert PoolQuarter.objects.get().used == 1


@pytest.mark.django_db(transaction=True)
def test_two_members_booking_at_once_for_the_last_pooled_session_one_is_sponsored():
    from listening.models import Booking
    from listening.services import booking_create
    from tests.factories import CounselorProfileFactory, OneOffWindowFactory, next_quarter

    allowance = AllowanceFactory(sessions_per_member=3, pool_per_quarter=1)
    members = [MembershipFactory(organisation=allowance.organisation).user for _ in range(2)]
    start = next_quarter(days=1)
    counselors = [CounselorProfileFactory() for _ in range(2)]
    for counselor in counselors:
        OneOffWindowFactory(counselor=counselor, start=start, end=start + dt.timedelta(hours=1))
    barrier = threading.Barrier(2)
    errors: list = []

    def book(member, counselor):
        try:
            barrier.wait()
            booking_create(
                client=member,
                counselor_id=counselor.pk,
                start=start,
                duration_minutes=30,
                mode="text",
                topic="stress",
            )
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=pair) for pair in zip(members, counselors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    bookings = list(Booking.objects.all())
    assert len(bookings) == 2
    assert sorted(b.allowance_claim_id is not None for b in bookings) == [False, True]
    assert [b.allowance_refusal for b in bookings if b.allowance_claim_id is None] == [
        Refusal.POOL_USED_UP
    ]
