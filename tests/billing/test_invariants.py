"""Property test: random sequences of money events through billing.services, against
PostgreSQL. After every step the database's commit-time balance check passes, and at the end
the whole ledger sums to zero and each charge's invariants hold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Account, Charge, Entry
from billing.policy import fee_split
from billing.services import (
    ledger_booking_cancel,
    ledger_booking_complete,
    ledger_booking_no_show,
    ledger_booking_reprice,
    ledger_group_seat_charge,
    ledger_group_seat_refund,
    ledger_package_consume,
    ledger_package_purchase,
)
from core.exceptions import Conflict
from tests.billing.factories import (
    charge_booking,
    charge_total,
    check_deferred_constraints,
    ledger_total,
    next_booking_id,
    unbalanced_transactions,
)
from tests.factories import ClientFactory, CounselorProfileFactory

pytestmark = pytest.mark.django_db
K = Account.Kind
prices = st.sampled_from(["0.00", "0.01", "33.33", "60.00", "99.99", "100.00", "2000.00"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("book"), prices, st.booleans()),
        st.tuples(st.just("cancel"), st.sampled_from(["early", "late", "counselor"])),
        st.tuples(st.just("no_show"), st.sampled_from(["client", "counselor", "both"])),
        st.tuples(st.just("complete")),
        st.tuples(st.just("reschedule"), prices),
        st.tuples(st.just("package"), prices),
        st.tuples(st.just("seat"), prices),
    ),
    min_size=1,
    max_size=14,
)


def _apply(step, state, client, counselor) -> None:
    now = timezone.now()
    kind, *args = step
    live = state["bookings"][-1] if state["bookings"] else None
    if kind == "book":
        charge = charge_booking(
            client=client,
            counselor=counselor,
            amount=args[0],
            sponsor_organisation_id=11 if args[1] else None,
        )
        state["bookings"].append(charge.subject_id)
    elif live is None:
        return
    elif kind == "cancel":
        ahead = dt.timedelta(hours=1 if args[0] == "late" else 5)
        by = "counselor" if args[0] == "counselor" else "client"
        ledger_booking_cancel(booking_id=live, by=by, cancelled_at=now, start=now + ahead)
    elif kind == "no_show":
        ledger_booking_no_show(booking_id=live, absent=args[0])
    elif kind == "complete":
        ledger_booking_complete(booking_id=live)
    elif kind == "reschedule":
        try:
            ledger_booking_reprice(booking_id=live, amount=Decimal(args[0]))
        except Conflict:
            pass  # settled already: nothing may change, and nothing did
    if kind == "package" and Decimal(args[0]) > 0:
        purchase = next_booking_id()
        ledger_package_purchase(purchase_id=purchase, client_id=client.pk, amount=args[0])
        charge = ledger_package_consume(
            purchase_id=purchase,
            booking_id=next_booking_id(),
            client_id=client.pk,
            counselor_id=counselor.pk,
            amount=args[0],
        )
        state["bookings"].append(charge.subject_id)
    if kind == "seat":
        seat = next_booking_id()
        ledger_group_seat_charge(
            seat_id=seat, client_id=client.pk, counselor_id=counselor.pk, amount=args[0]
        )
        ledger_group_seat_refund(seat_id=seat)


def _check_charge(charge: Charge) -> None:
    escrow = charge_total(charge, K.ESCROW)
    paid = charge_total(charge, K.GATEWAY)  # what the client paid, net of refunds
    earned = -charge_total(charge, K.COUNSELOR)
    fee = -charge_total(charge, K.REVENUE)
    by_client = charge.source == Charge.Source.CLIENT
    if charge.status == Charge.Status.HELD:
        assert escrow == -charge.amount and earned == fee == 0
        assert paid == (charge.amount if by_client else 0)
    elif charge.status == Charge.Status.REFUNDED:
        assert escrow == 0 and paid == 0 and earned == fee == 0
    else:
        assert escrow == 0 and earned + fee == charge.amount
        assert (earned, fee) == fee_split(amount=charge.amount, rate=charge.fee_rate)
        assert paid == (charge.amount if by_client else 0)
    if charge.source == Charge.Source.ORGANISATION:
        sponsored = charge_total(charge, K.ORGANISATION)
        assert sponsored == (0 if charge.status == Charge.Status.REFUNDED else charge.amount)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_random_money_events_always_balance(steps):
    client, counselor = ClientFactory(), CounselorProfileFactory()
    state = {"bookings": []}
    for step in steps:
        _apply(step, state, client, counselor)
        check_deferred_constraints()  # the database's commit-time check, after every step
    assert unbalanced_transactions() == 0
    assert ledger_total() == 0
    for charge in Charge.objects.filter(client=client):
        _check_charge(charge)
    # Package credit never goes below nothing.
    packages = Entry.objects.filter(account__kind=K.PACKAGES).aggregate(t=Sum("amount"))["t"]
    assert (packages or 0) <= 0
