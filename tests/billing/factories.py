"""Billing's test helpers: charges posted through the ledger's own services, and the sums the
tests check them by."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from billing.models import Account, Entry, LedgerTransaction
from billing.services import ledger_booking_charge

_booking_ids = itertools.count(900_000)


def next_booking_id() -> int:
    """A booking id for the ledger alone (it names bookings by id, with no foreign key)."""
    return next(_booking_ids)


def charge_booking(*, client, counselor, amount="100.00", booking_id=None, **kwargs):
    return ledger_booking_charge(
        booking_id=booking_id or next_booking_id(),
        client_id=client.pk,
        counselor_id=counselor.pk,
        amount=amount,
        **kwargs,
    )


def balance(kind: str, **owner) -> Decimal:
    """The sum of one account's entries (debits positive), 0 for an account never used."""
    total = Entry.objects.filter(
        account__kind=kind, **{f"account__{k}": v for k, v in owner.items()}
    )
    return total.aggregate(t=Sum("amount"))["t"] or Decimal(0)


def counselor_due(counselor) -> Decimal:
    return -balance(Account.Kind.COUNSELOR, counselor_id=counselor.pk)


def charge_total(charge, kind: str) -> Decimal:
    """The sum of a charge's entries on accounts of `kind`."""
    total = Entry.objects.filter(transaction__charge=charge, account__kind=kind)
    return total.aggregate(t=Sum("amount"))["t"] or Decimal(0)


def check_deferred_constraints() -> None:
    """Fire the ledger's commit-time checks now (a test's transaction never commits), then
    defer them again: an unbalanced transaction raises IntegrityError here."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def unbalanced_transactions() -> int:
    return LedgerTransaction.objects.annotate(t=Sum("entries__amount")).exclude(t=0).count()


def ledger_total() -> Decimal:
    return Entry.objects.aggregate(t=Sum("amount"))["t"] or Decimal(0)
