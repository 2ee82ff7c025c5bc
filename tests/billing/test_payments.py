"""A gateway that does not settle at once: the payment row is the outbox, a task claims it
once (a conditional update) and posts the money movement when the gateway settles."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from billing.gateways import GatewayResult, GatewayStatus, PaymentGateway
from billing.models import Account, Payment
from billing.services import ledger_booking_complete, payment_confirm, payment_process
from tests.billing.factories import balance, charge_booking, counselor_due

pytestmark = pytest.mark.django_db
LATER = "tests.billing.test_payments.LaterGateway"


class LaterGateway(PaymentGateway):
    """Answers `pending`: the provider confirms later, by its webhook."""

    calls = 0

    def submit(self, request):
        LaterGateway.calls += 1
        return GatewayResult(status=GatewayStatus.PENDING, reference="later-1")


@override_settings(PAYMENT_GATEWAY=LATER)
def test_a_charge_waits_for_the_gateway_and_is_claimed_once(
    client_user, counselor, django_capture_on_commit_callbacks
):
    LaterGateway.calls = 0
    with django_capture_on_commit_callbacks(execute=True):
        charge_booking(client=client_user, counselor=counselor)
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PROCESSING and LaterGateway.calls == 1
    assert payment_process(payment_id=payment.pk) is False  # claimed already: not sent again
    assert balance(Account.Kind.GATEWAY) == 0  # no money has moved yet
    assert payment_confirm(payment_id=payment.pk, settled=True, reference="wx-9")
    assert balance(Account.Kind.GATEWAY) == Decimal("100.00")
    assert not payment_confirm(payment_id=payment.pk, settled=True)  # a repeated webhook


@override_settings(PAYMENT_GATEWAY=LATER)
def test_a_failed_payout_leaves_the_balance_due(client_user, counselor, staff_user):
    with override_settings(PAYMENT_GATEWAY="billing.gateways.DevelopmentGateway"):
        ledger_booking_complete(
            booking_id=charge_booking(client=client_user, counselor=counselor).subject_id
        )
    call_command("pay_out_earnings", "--staff", staff_user.username, "--all")
    payout = Payment.objects.get(direction=Payment.Direction.PAYOUT)
    assert payout.status == Payment.Status.PENDING  # (no task ran: outside a commit)
    payment_confirm(payment_id=payout.pk, settled=False, failure="account closed")
    assert counselor_due(counselor) == Decimal("80.00")


def test_the_payout_command_pays_out_a_counselor(client_user, counselor, staff_user):
    ledger_booking_complete(
        booking_id=charge_booking(client=client_user, counselor=counselor).subject_id
    )
    call_command("pay_out_earnings", "--staff", staff_user.username, "--counselor", counselor.pk)
    assert counselor_due(counselor) == 0
