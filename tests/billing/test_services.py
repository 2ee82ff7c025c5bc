"""The money events, each posted through billing.services as balanced entries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from billing.models import Account, Charge, Entry, LedgerTransaction, Payment
from billing.policy import fee_split
from billing.services import (
    ledger_booking_cancel,
    ledger_booking_complete,
    ledger_booking_no_show,
    ledger_booking_reprice,
    ledger_charge_reverse,
    ledger_group_seat_charge,
    ledger_group_seat_complete,
    ledger_group_seat_refund,
    ledger_package_consume,
    ledger_package_purchase,
    ledger_payout,
    package_credit_left,
)
from core.exceptions import Conflict
from tests.billing.factories import (
    balance,
    charge_booking,
    charge_total,
    check_deferred_constraints,
    counselor_due,
    ledger_total,
    next_booking_id,
    unbalanced_transactions,
)

pytestmark = pytest.mark.django_db
K = Account.Kind
HOUR = dt.timedelta(hours=1)


def _counts():
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        Charge.objects.count(),
        Payment.objects.count(),
    )


def test_a_charge_holds_the_price_in_escrow_and_collects_it_from_the_client(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, amount="100.00")
    assert charge.status == Charge.Status.HELD and charge.source == Charge.Source.CLIENT
    assert balance(K.ESCROW) == Decimal("-100.00")
    assert balance(K.GATEWAY) == Decimal("100.00")  # the development gateway settled at once
    assert balance(K.CLIENT, client_id=client_user.pk) == 0
    assert Payment.objects.get().status == Payment.Status.SETTLED
    check_deferred_constraints()
    assert ledger_total() == 0


def test_a_completed_session_splits_into_the_fee_and_the_counselors_earning(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, amount="100.00")
    ledger_booking_complete(booking_id=charge.subject_id)
    charge.refresh_from_db()
    assert charge.status == Charge.Status.EARNED
    assert balance(K.REVENUE) == Decimal("-20.00")
    assert counselor_due(counselor) == Decimal("80.00")
    assert balance(K.ESCROW) == 0


def test_the_fee_is_rounded_to_the_fen_and_the_earning_takes_the_rest():
    assert fee_split(amount=Decimal("0.03"), rate=Decimal("0.2")) == (
        Decimal("0.02"),
        Decimal("0.01"),
    )
    assert fee_split(amount=Decimal("99.99"), rate=Decimal("0.2")) == (
        Decimal("79.99"),
        Decimal("20.00"),
    )


@override_settings(PLATFORM_FEE_RATE=Decimal("0.15"))
def test_the_fee_rate_comes_from_the_setting_and_stays_with_the_charge(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, amount="100.00")
    with override_settings(PLATFORM_FEE_RATE=Decimal("0.5")):
        ledger_booking_complete(booking_id=charge.subject_id)
    assert counselor_due(counselor) == Decimal("85.00")


def test_a_client_cancelling_more_than_two_hours_ahead_gets_everything_back(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    now = timezone.now()
    ledger_booking_cancel(
        booking_id=charge.subject_id, by="client", cancelled_at=now, start=now + 3 * HOUR
    )
    charge.refresh_from_db()
    assert charge.status == Charge.Status.REFUNDED
    assert charge_total(charge, K.GATEWAY) == 0  # the client's net payment
    assert counselor_due(counselor) == 0


def test_a_client_cancelling_two_hours_ahead_or_later_pays_the_counselor(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    now = timezone.now()
    ledger_booking_cancel(
        booking_id=charge.subject_id, by="client", cancelled_at=now, start=now + 2 * HOUR
    )
    charge.refresh_from_db()
    assert charge.status == Charge.Status.EARNED
    assert counselor_due(counselor) == Decimal("80.00")


@pytest.mark.parametrize("by", ["counselor", "staff"])
def test_a_counselor_or_staff_cancellation_is_always_a_full_refund(by, client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    now = timezone.now()
    ledger_booking_cancel(booking_id=charge.subject_id, by=by, cancelled_at=now, start=now + HOUR)
    charge.refresh_from_db()
    assert charge.status == Charge.Status.REFUNDED
    assert charge_total(charge, K.GATEWAY) == 0


@pytest.mark.parametrize(
    ("absent", "status"),
    [("client", "earned"), ("counselor", "refunded"), ("both", "refunded")],
)
def test_a_no_show_pays_the_counselor_only_when_the_client_stayed_away(
    absent, status, client_user, counselor
):
    charge = charge_booking(client=client_user, counselor=counselor)
    ledger_booking_no_show(booking_id=charge.subject_id, absent=absent)
    charge.refresh_from_db()
    assert charge.status == status


def test_a_settled_charge_is_settled_once(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    ledger_booking_complete(booking_id=charge.subject_id)
    before = _counts()
    ledger_booking_complete(booking_id=charge.subject_id)
    ledger_booking_no_show(booking_id=charge.subject_id, absent="counselor")
    assert _counts() == before


def test_events_of_a_booking_never_charged_post_nothing(db):
    before = _counts()
    assert ledger_booking_complete(booking_id=next_booking_id()) is None
    assert _counts() == before


def test_an_allowance_pays_instead_of_the_client(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, sponsor_organisation_id=7)
    assert charge.source == Charge.Source.ORGANISATION
    assert balance(K.ORGANISATION, organisation_id=7) == Decimal("100.00")
    assert balance(K.GATEWAY) == 0 and not Payment.objects.exists()
    ledger_booking_no_show(booking_id=charge.subject_id, absent="counselor")
    assert balance(K.ORGANISATION, organisation_id=7) == 0


def test_a_reschedule_to_a_dearer_length_charges_the_difference(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, amount="60.00")
    ledger_booking_reprice(booking_id=charge.subject_id, amount=Decimal("100.00"))
    assert balance(K.ESCROW) == Decimal("-100.00")
    assert charge_total(charge, K.GATEWAY) == Decimal("100.00")
    ledger_booking_reprice(booking_id=charge.subject_id, amount=Decimal("60.00"))
    assert charge_total(charge, K.GATEWAY) == Decimal("60.00")
    ledger_booking_complete(booking_id=charge.subject_id)
    assert counselor_due(counselor) == Decimal("48.00")


def test_a_settled_charge_cannot_be_repriced(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    ledger_booking_complete(booking_id=charge.subject_id)
    with pytest.raises(Conflict) as exc:
        ledger_booking_reprice(booking_id=charge.subject_id, amount=Decimal("60.00"))
    assert exc.value.code == "charge_settled"


def test_a_package_is_bought_once_and_its_sessions_are_paid_from_its_credit(client_user, counselor):
    ledger_package_purchase(purchase_id=5, client_id=client_user.pk, amount=Decimal("250.00"))
    assert package_credit_left(purchase_id=5) == Decimal("250.00")
    assert balance(K.GATEWAY) == Decimal("250.00")
    charge = ledger_package_consume(
        purchase_id=5,
        booking_id=next_booking_id(),
        client_id=client_user.pk,
        counselor_id=counselor.pk,
        amount=Decimal("125.00"),
    )
    assert package_credit_left(purchase_id=5) == Decimal("125.00")
    ledger_booking_no_show(booking_id=charge.subject_id, absent="counselor")
    assert package_credit_left(purchase_id=5) == Decimal("250.00")  # the session came back
    with pytest.raises(Conflict):
        ledger_package_purchase(purchase_id=5, client_id=client_user.pk, amount=Decimal("1.00"))


def test_a_package_with_too_little_credit_left_is_refused(client_user, counselor):
    ledger_package_purchase(purchase_id=6, client_id=client_user.pk, amount=Decimal("100.00"))
    before = _counts()
    with pytest.raises(Conflict) as exc:
        ledger_package_consume(
            purchase_id=6,
            booking_id=next_booking_id(),
            client_id=client_user.pk,
            counselor_id=counselor.pk,
            amount=Decimal("100.01"),
        )
    assert exc.value.code == "package_used_up" and _counts() == before


def test_another_clients_package_cannot_be_used(client_user, other_client_user, counselor):
    ledger_package_purchase(purchase_id=8, client_id=client_user.pk, amount=Decimal("100.00"))
    with pytest.raises(ValidationError) as exc:
        ledger_package_consume(
            purchase_id=8,
            booking_id=next_booking_id(),
            client_id=other_client_user.pk,
            counselor_id=counselor.pk,
            amount=Decimal("50.00"),
        )
    assert "package" in exc.value.message_dict


def test_a_group_seat_is_refunded_when_given_up_and_may_be_charged_again(client_user, counselor):
    seat = {"seat_id": 3, "client_id": client_user.pk, "counselor_id": counselor.pk}
    ledger_group_seat_charge(**seat, amount=Decimal("40.00"))
    with pytest.raises(Conflict):
        ledger_group_seat_charge(**seat, amount=Decimal("40.00"))
    ledger_group_seat_refund(seat_id=3)
    again = ledger_group_seat_charge(**seat, amount=Decimal("40.00"))
    ledger_group_seat_complete(seat_id=3)
    again.refresh_from_db()
    assert again.status == Charge.Status.EARNED and counselor_due(counselor) == Decimal("32.00")


def test_a_payout_pays_the_whole_due_balance_through_the_gateway(
    client_user, counselor, staff_user
):
    for _ in range(2):
        ledger_booking_complete(
            booking_id=charge_booking(client=client_user, counselor=counselor).subject_id
        )
    payment = ledger_payout(counselor_id=counselor.pk, staff=staff_user)
    assert payment.amount == Decimal("160.00") and payment.status == Payment.Status.SETTLED
    assert counselor_due(counselor) == 0
    assert balance(K.GATEWAY) == Decimal("40.00")  # what stays: the platform's fees
    with pytest.raises(Conflict) as exc:
        ledger_payout(counselor_id=counselor.pk, staff=staff_user)
    assert exc.value.code == "nothing_due"


def test_only_staff_pay_out(client_user, counselor):
    ledger_booking_complete(
        booking_id=charge_booking(client=client_user, counselor=counselor).subject_id
    )
    with pytest.raises(PermissionDenied):
        ledger_payout(counselor_id=counselor.pk, staff=counselor.user)
    assert counselor_due(counselor) == Decimal("80.00")


def test_staff_reverse_an_earned_charge_with_new_entries(client_user, counselor, staff_user):
    charge = charge_booking(client=client_user, counselor=counselor)
    ledger_booking_complete(booking_id=charge.subject_id)
    earning = LedgerTransaction.objects.get(kind="earning")
    ledger_charge_reverse(charge_id=charge.pk, staff=staff_user, reason="complaint upheld")
    assert counselor_due(counselor) == 0 and balance(K.REVENUE) == 0
    assert charge_total(charge, K.GATEWAY) == 0
    assert earning.entries.count() == 3  # the original lines are still there
    with pytest.raises(Conflict):
        ledger_charge_reverse(charge_id=charge.pk, staff=staff_user, reason="again")


def test_a_reversal_needs_a_reason(client_user, counselor, staff_user):
    charge = charge_booking(client=client_user, counselor=counselor)
    with pytest.raises(ValidationError) as exc:
        ledger_charge_reverse(charge_id=charge.pk, staff=staff_user, reason=" ")
    assert "reason" in exc.value.message_dict


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1.00", "between"),
        ("2000.01", "between"),
        ("10.005", "two decimal places"),
        ("x", "80.00"),
    ],
)
def test_a_price_out_of_bounds_is_refused_naming_price_and_nothing_changes(
    amount, message, client_user, counselor
):
    with pytest.raises(ValidationError) as exc:
        charge_booking(client=client_user, counselor=counselor, amount=amount)
    assert message in exc.value.message_dict["price"][0]
    assert _counts() == (0, 0, 0, 0)


def test_an_unknown_party_is_refused_naming_it(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        ledger_booking_no_show(booking_id=charge.subject_id, absent="nobody")
    assert "party" in exc.value.message_dict and _counts() == before


def test_a_booking_is_charged_once(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor)
    with pytest.raises(Conflict) as exc:
        charge_booking(client=client_user, counselor=counselor, booking_id=charge.subject_id)
    assert exc.value.code == "already_charged"


def test_every_transaction_balances_after_a_mix_of_events(client_user, counselor, staff_user):
    now = timezone.now()
    a = charge_booking(client=client_user, counselor=counselor)
    b = charge_booking(client=client_user, counselor=counselor, sponsor_organisation_id=2)
    ledger_booking_complete(booking_id=a.subject_id)
    ledger_booking_cancel(booking_id=b.subject_id, by="client", cancelled_at=now, start=now + HOUR)
    ledger_payout(counselor_id=counselor.pk, staff=staff_user)
    check_deferred_constraints()
    assert unbalanced_transactions() == 0 and ledger_total() == 0


def test_a_package_session_cannot_be_repriced_past_its_credit(client_user, counselor):
    purchase_id, booking_id = next_booking_id(), next_booking_id()
    ledger_package_purchase(purchase_id=purchase_id, client_id=client_user.pk, amount="100.00")
    ledger_package_consume(
        purchase_id=purchase_id,
        booking_id=booking_id,
        client_id=client_user.pk,
        counselor_id=counselor.pk,
        amount="100.00",
    )
    with pytest.raises(Conflict) as err:
        ledger_booking_reprice(booking_id=booking_id, amount="150.00")
    assert err.value.code == "package_price_fixed"
    assert package_credit_left(purchase_id=purchase_id) == 0
