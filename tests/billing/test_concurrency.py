"""Payouts under concurrency, against PostgreSQL with real transactions: the counselor's
account row lock means money is never paid out twice or paid out while being taken back."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import Account, Payment
from billing.services import ledger_booking_complete, ledger_charge_reverse, ledger_payout
from core.exceptions import Conflict
from tests.billing.factories import charge_booking, counselor_due, ledger_total
from tests.factories import ClientFactory, CounselorProfileFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def earned_twice():
    client, counselor, staff = ClientFactory(), CounselorProfileFactory(), StaffFactory()
    charges = []
    for _ in range(2):
        charge = charge_booking(client=client, counselor=counselor, amount="100.00")
        ledger_booking_complete(booking_id=charge.subject_id)
        charges.append(charge)
    return counselor, staff, charges


def test_two_payouts_at_once_pay_once(earned_twice):
    counselor, staff, _charges = earned_twice
    results = _race(
        lambda: ledger_payout(counselor_id=counselor.pk, staff=staff),
        lambda: ledger_payout(counselor_id=counselor.pk, staff=staff),
    )
    paid = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert paid[0].amount == Decimal("160.00")
    assert counselor_due(counselor) == 0 and ledger_total() == 0


def test_a_payout_racing_a_reversal_never_pays_what_the_reversal_took(earned_twice):
    counselor, staff, charges = earned_twice
    results = _race(
        lambda: ledger_payout(counselor_id=counselor.pk, staff=staff),
        lambda: ledger_charge_reverse(charge_id=charges[0].pk, staff=staff, reason="complaint"),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    payout = results[0]
    balance = -counselor_due(counselor)  # the counselor's account: debit when they owe
    # Either the payout went first (both earnings paid, the reversal leaves the counselor
    # owing one) or the reversal did (one earning paid, nothing owed either way).
    assert (payout.amount, balance) in (
        (Decimal("160.00"), Decimal("80.00")),
        (Decimal("80.00"), Decimal("0.00")),
    )
    assert ledger_total() == 0
    assert Account.objects.filter(kind="counselor").count() == 1
