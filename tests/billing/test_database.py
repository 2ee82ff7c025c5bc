"""What PostgreSQL itself refuses: changed or deleted entries, and unbalanced transactions."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Account, Entry, LedgerTransaction
from billing.services import account_for
from tests.billing.factories import charge_booking, check_deferred_constraints

pytestmark = pytest.mark.django_db


def test_an_entry_cannot_be_changed(client_user, counselor):
    charge_booking(client=client_user, counselor=counselor)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Entry.objects.update(amount=Decimal("1.00"))


def test_an_entry_cannot_be_deleted(client_user, counselor):
    charge_booking(client=client_user, counselor=counselor)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Entry.objects.all().delete()


def test_a_transaction_cannot_be_changed(client_user, counselor):
    charge_booking(client=client_user, counselor=counselor)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        LedgerTransaction.objects.update(memo="edited")


def test_an_unbalanced_transaction_is_refused_at_commit(db):
    now = timezone.now()
    tx = LedgerTransaction.objects.create(kind="charge", created_at=now)
    for kind, amount in ((Account.Kind.ESCROW, "-10.00"), (Account.Kind.GATEWAY, "9.99")):
        Entry.objects.create(
            transaction=tx, account=account_for(kind), amount=Decimal(amount), posted_at=now
        )
    with pytest.raises(IntegrityError, match="does not balance"):
        check_deferred_constraints()


def test_a_transaction_without_entries_is_refused_at_commit(db):
    LedgerTransaction.objects.create(kind="charge", created_at=timezone.now())
    with pytest.raises(IntegrityError, match="fewer than two entries"):
        check_deferred_constraints()
