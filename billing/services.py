"""The ledger's writes: every money event as one balanced transaction (docs/billing.md).

The callers (listening's booking services, groups' seats, packages when they come) call these
inside their own transaction, so the booking and its charge commit together or not at all:
the rows are the outbox. Money that must cross the payment gateway is a `Payment` row written
in the same transaction; it settles at once with a gateway that says so (the development one),
else a Celery task claims it after commit and calls the gateway outside any transaction.

Each event on a charge locks the charge's row first, so a cancellation racing the session's
end, or a no-show check, settles it once; every posting that debits a counselor's account
(a payout, a staff reversal) locks that account's row, so a payout never pays out money a
concurrent reversal is taking back."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from billing import tasks
from billing.gateways import GatewayRequest, GatewayResult, GatewayStatus, gateway
from billing.models import Account, Charge, Entry, LedgerTransaction, Payment
from billing.policy import Outcome, Party, cancellation_outcome, fee_split, no_show_outcome
from core.exceptions import Conflict

logger = logging.getLogger(__name__)

CURRENCY = "CNY"
Kind = LedgerTransaction.Kind


# --- amounts and accounts ---------------------------------------------------------------------


def fee_rate() -> Decimal:
    """settings.PLATFORM_FEE_RATE as a Decimal in [0, 1)."""
    try:
        rate = Decimal(str(settings.PLATFORM_FEE_RATE))
    except InvalidOperation:
        raise ImproperlyConfigured("PLATFORM_FEE_RATE must be a decimal number.") from None
    if not Decimal(0) <= rate < Decimal(1):
        raise ImproperlyConfigured("PLATFORM_FEE_RATE must be at least 0 and below 1.")
    return rate


def _amount(value, *, field: str) -> Decimal:
    """A price within the platform's bounds (OFFERING_PRICE_MIN..MAX), to the fen; else a
    ValidationError naming `field`."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: [_("Give an amount such as 80.00.")]}) from None
    low, high = settings.OFFERING_PRICE_MIN, settings.OFFERING_PRICE_MAX
    if not amount.is_finite() or not low <= amount <= high:
        raise ValidationError(
            {
                field: [
                    _("The price must be between %(min)s and %(max)s.") % {"min": low, "max": high}
                ]
            }
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: [_("Amounts are in yuan and fen: two decimal places.")]})
    return amount.quantize(Decimal("0.01"))


def _positive_id(value, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError({field: [_("Give a positive whole number.")]})
    return value


def account_for(
    kind: str,
    *,
    client_id: int | None = None,
    counselor_id: int | None = None,
    organisation_id: int | None = None,
    lock: bool = False,
) -> Account:
    """The account of `kind` (and owner), made on first use. With `lock`, its row is locked
    for the rest of the transaction (a payout or reversal: see the module's docstring)."""
    account, _created = Account.objects.get_or_create(
        kind=kind, client_id=client_id, counselor_id=counselor_id, organisation_id=organisation_id
    )
    if lock:
        account = Account.objects.select_for_update().get(pk=account.pk)
    return account


def _post(
    kind: str,
    lines: list[tuple[Account, Decimal]],
    *,
    charge: Charge | None = None,
    payment: Payment | None = None,
    package_purchase_id: int | None = None,
    memo: str = "",
    by: User | None = None,
    now: dt.datetime | None = None,
) -> LedgerTransaction | None:
    """Post one balanced transaction (zero lines dropped; none left posts nothing). An
    unbalanced one is a bug, refused here before the database's commit-time check would."""
    lines = [(account, amount) for account, amount in lines if amount]
    if not lines:
        return None
    if sum(amount for _account, amount in lines) != 0 or len(lines) < 2:
        raise ValueError(f"unbalanced {kind} transaction: {lines}")
    now = now or timezone.now()
    tx = LedgerTransaction.objects.create(
        kind=kind,
        charge=charge,
        payment=payment,
        package_purchase_id=package_purchase_id,
        memo=memo[:200],
        created_by=by,
        created_at=now,
    )
    Entry.objects.bulk_create(
        Entry(transaction=tx, account=account, amount=amount, posted_at=now)
        for account, amount in lines
    )
    return tx


def _platform(kind: str) -> Account:
    return account_for(kind)


# --- the payment outbox -----------------------------------------------------------------------


def _payment_request(
    direction: str,
    *,
    amount: Decimal,
    account: Account,
    charge: Charge | None = None,
    package_purchase_id: int | None = None,
    by: User | None = None,
) -> Payment:
    """Write the payment row; settle it now with a gateway that settles at once (no network),
    else queue its processing after commit."""
    payment = Payment.objects.create(
        direction=direction,
        amount=amount,
        account=account,
        charge=charge,
        package_purchase_id=package_purchase_id,
        key=uuid.uuid4(),
        created_by=by,
        created_at=timezone.now(),
    )
    gw = gateway()
    if gw.settles_at_once:
        _payment_finish(payment, gw.submit(_gateway_request(payment)))
        payment.refresh_from_db()
    else:
        tasks.payment_process.delay_on_commit(payment.pk)
    return payment


def _gateway_request(payment: Payment) -> GatewayRequest:
    account = payment.account
    return GatewayRequest(
        key=payment.key,
        direction=payment.direction,
        amount=payment.amount,
        currency=CURRENCY,
        party_id=account.client_id or account.counselor_id,
        description=f"pianke {payment.direction} {payment.pk}",
    )


def _payment_finish(payment: Payment, result: GatewayResult) -> bool:
    """Record the gateway's answer once: settled posts the money movement, failed marks the
    row. The conditional update makes a second answer (a retry, a late webhook) a no-op."""
    now = timezone.now()
    live = Payment.objects.filter(
        pk=payment.pk, status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING]
    )
    if result.status == GatewayStatus.PENDING:
        return False
    if result.status == GatewayStatus.FAILED:
        done = live.update(status=Payment.Status.FAILED, failure=result.failure[:200])
        if done:
            logger.warning("payment %s (%s) failed at the gateway", payment.pk, payment.direction)
        return bool(done)
    if not live.update(status=Payment.Status.SETTLED, reference=result.reference, settled_at=now):
        return False
    gw_account = _platform(Account.Kind.GATEWAY)
    a = payment.amount
    if payment.direction == Payment.Direction.COLLECT:
        kind, lines = Kind.COLLECTION, [(gw_account, a), (payment.account, -a)]
    elif payment.direction == Payment.Direction.REFUND:
        kind, lines = Kind.REFUND_PAYMENT, [(payment.account, a), (gw_account, -a)]
    else:
        kind, lines = Kind.PAYOUT, [(payment.account, a), (gw_account, -a)]
    _post(
        kind,
        lines,
        charge=payment.charge,
        payment=payment,
        package_purchase_id=payment.package_purchase_id,
        memo=result.reference,
        by=payment.created_by,
        now=now,
    )
    return True


def payment_process(*, payment_id: int) -> bool:
    """The task's work for a gateway that does not settle at once: claim the pending payment
    (a conditional update, so two workers never both send it), call the gateway outside any
    transaction (precondition: not inside an atomic block), and record its answer."""
    claimed = Payment.objects.filter(pk=payment_id, status=Payment.Status.PENDING).update(
        status=Payment.Status.PROCESSING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    payment = Payment.objects.select_related("account").get(pk=payment_id)
    result = gateway().submit(_gateway_request(payment))
    with transaction.atomic():
        return _payment_finish(payment, result)


@transaction.atomic
def payment_confirm(
    *, payment_id: int, settled: bool, reference: str = "", failure: str = ""
) -> bool:
    """A gateway's later answer (its webhook or a status query) for a payment it left pending."""
    payment = Payment.objects.select_related("account", "charge").get(pk=payment_id)
    status = GatewayStatus.SETTLED if settled else GatewayStatus.FAILED
    return _payment_finish(
        payment, GatewayResult(status=status, reference=reference, failure=failure)
    )


def _client_money_back(charge: Charge, amount: Decimal, *, by: User | None = None) -> None:
    """Give `amount` of a client-funded charge back through the gateway: collections not yet
    sent are cancelled (no money moved), and what was sent is refunded by a refund payment."""
    left = amount
    for pending in charge.payments.filter(
        direction=Payment.Direction.COLLECT, status=Payment.Status.PENDING
    ).order_by("-pk"):
        if pending.amount <= left and (
            Payment.objects.filter(pk=pending.pk, status=Payment.Status.PENDING).update(
                status=Payment.Status.CANCELLED
            )
        ):
            left -= pending.amount
    if left > 0:
        _payment_request(
            Payment.Direction.REFUND,
            amount=left,
            account=account_for(Account.Kind.CLIENT, client_id=charge.client_id),
            charge=charge,
            by=by,
        )


# --- charges: bookings, group seats, packages ---------------------------------------------------


def _funding_account(charge: Charge) -> Account:
    if charge.source == Charge.Source.ORGANISATION:
        return account_for(Account.Kind.ORGANISATION, organisation_id=charge.organisation_id)
    if charge.source == Charge.Source.PACKAGE:
        return _platform(Account.Kind.PACKAGES)
    return account_for(Account.Kind.CLIENT, client_id=charge.client_id)


def _charge_open(
    *,
    subject: str,
    subject_id: int,
    client_id: int,
    counselor_id: int,
    amount,
    sponsor_organisation_id: int | None = None,
    package_purchase_id: int | None = None,
) -> Charge:
    _positive_id(subject_id, field=subject)
    amount = _amount(amount, field="price")
    if sponsor_organisation_id is not None:
        _positive_id(sponsor_organisation_id, field="sponsor_organisation")
    if (
        Charge.objects.filter(subject=subject, subject_id=subject_id)
        .exclude(status=Charge.Status.REFUNDED)
        .exists()
    ):
        raise Conflict(_("This has been charged already."), code="already_charged")
    if package_purchase_id is not None:
        source = Charge.Source.PACKAGE
    elif sponsor_organisation_id is not None:
        source = Charge.Source.ORGANISATION
    else:
        source = Charge.Source.CLIENT
    now = timezone.now()
    charge = Charge.objects.create(
        subject=subject,
        subject_id=subject_id,
        client_id=client_id,
        counselor_id=counselor_id,
        amount=amount,
        fee_rate=fee_rate(),
        source=source,
        organisation_id=sponsor_organisation_id,
        package_purchase_id=package_purchase_id,
        created_at=now,
    )
    kind = {
        Charge.Source.CLIENT: Kind.CHARGE,
        Charge.Source.ORGANISATION: Kind.ALLOWANCE,
        Charge.Source.PACKAGE: Kind.PACKAGE_CONSUMPTION,
    }[source]
    _post(
        kind,
        [(_funding_account(charge), amount), (_platform(Account.Kind.ESCROW), -amount)],
        charge=charge,
        package_purchase_id=package_purchase_id,
        now=now,
    )
    if source == Charge.Source.CLIENT and amount > 0:
        _payment_request(
            Payment.Direction.COLLECT,
            amount=amount,
            account=account_for(Account.Kind.CLIENT, client_id=client_id),
            charge=charge,
        )
    return charge


@transaction.atomic
def ledger_booking_charge(
    *,
    booking_id: int,
    client_id: int,
    counselor_id: int,
    amount,
    sponsor_organisation_id: int | None = None,
) -> Charge:
    """Charge a new booking at `amount` (its price): from the client through the gateway, or
    from organisation `sponsor_organisation_id`'s allowance (an allowance debit). The money is
    held in escrow until the session's outcome. Call in the booking's own transaction.
    A price outside the platform's bounds is a 400 naming `price`; a booking already charged
    is a 409 `already_charged`."""
    return _charge_open(
        subject=Charge.Subject.BOOKING,
        subject_id=booking_id,
        client_id=client_id,
        counselor_id=counselor_id,
        amount=amount,
        sponsor_organisation_id=sponsor_organisation_id,
    )


@transaction.atomic
def ledger_group_seat_charge(
    *,
    seat_id: int,
    client_id: int,
    counselor_id: int,
    amount,
    sponsor_organisation_id: int | None = None,
) -> Charge:
    """Charge a group seat taken by a client, like a booking (held until the group session).
    A seat given up and taken again may be charged again once its charge was refunded."""
    return _charge_open(
        subject=Charge.Subject.GROUP_SEAT,
        subject_id=seat_id,
        client_id=client_id,
        counselor_id=counselor_id,
        amount=amount,
        sponsor_organisation_id=sponsor_organisation_id,
    )


@transaction.atomic
def ledger_package_purchase(*, purchase_id: int, client_id: int, amount) -> LedgerTransaction:
    """A client buys a package of sessions for `amount`: collected through the gateway and
    kept as prepaid credit of purchase `purchase_id` until its sessions are booked."""
    _positive_id(purchase_id, field="package")
    amount = _amount(amount, field="amount")
    if amount <= 0:
        raise ValidationError({"amount": [_("A package costs more than nothing.")]})
    if LedgerTransaction.objects.filter(
        kind=Kind.PACKAGE_PURCHASE, package_purchase_id=purchase_id
    ).exists():
        raise Conflict(_("This package has been bought already."), code="already_bought")
    client = account_for(Account.Kind.CLIENT, client_id=client_id)
    tx = _post(
        Kind.PACKAGE_PURCHASE,
        [(client, amount), (_platform(Account.Kind.PACKAGES), -amount)],
        package_purchase_id=purchase_id,
    )
    _payment_request(
        Payment.Direction.COLLECT, amount=amount, account=client, package_purchase_id=purchase_id
    )
    return tx


def package_credit_left(*, purchase_id: int) -> Decimal:
    """What remains of a package purchase's prepaid credit."""
    total = Entry.objects.filter(
        transaction__package_purchase_id=purchase_id, account__kind=Account.Kind.PACKAGES
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal(0))


@transaction.atomic
def ledger_package_consume(
    *, purchase_id: int, booking_id: int, client_id: int, counselor_id: int, amount
) -> Charge:
    """Pay a booking with `amount` of package purchase `purchase_id`'s credit (the share of
    one session, decided by the packages app). 400 `package` when the purchase is not this
    client's; 409 `package_used_up` when too little credit is left."""
    _positive_id(purchase_id, field="package")
    purchase = (
        LedgerTransaction.objects.select_for_update()
        .filter(kind=Kind.PACKAGE_PURCHASE, package_purchase_id=purchase_id)
        .first()
    )  # the purchase row's lock serialises its consumptions
    if (
        purchase is None
        or not purchase.entries.filter(
            account__kind=Account.Kind.CLIENT, account__client_id=client_id
        ).exists()
    ):
        raise ValidationError({"package": [_("You have no package with this id.")]})
    if _amount(amount, field="amount") > package_credit_left(purchase_id=purchase_id):
        raise Conflict(_("This package has no sessions left."), code="package_used_up")
    return _charge_open(
        subject=Charge.Subject.BOOKING,
        subject_id=booking_id,
        client_id=client_id,
        counselor_id=counselor_id,
        amount=amount,
        package_purchase_id=purchase_id,
    )


# --- outcomes ---------------------------------------------------------------------------------


def _charge_locked(subject: str, subject_id: int) -> Charge | None:
    """The latest charge of the thing, locked; None for one never charged (a booking made
    before the ledger existed), whose events post nothing."""
    return (
        Charge.objects.select_for_update()
        .filter(subject=subject, subject_id=subject_id)
        .order_by("-pk")
        .first()
    )


def _earn(charge: Charge, *, memo: str = "") -> Charge:
    """Release the held money: the platform's fee and the counselor's earning (now due)."""
    now = timezone.now()
    earning, fee = fee_split(amount=charge.amount, rate=charge.fee_rate)
    _post(
        Kind.EARNING,
        [
            (_platform(Account.Kind.ESCROW), charge.amount),
            (_platform(Account.Kind.REVENUE), -fee),
            (account_for(Account.Kind.COUNSELOR, counselor_id=charge.counselor_id), -earning),
        ],
        charge=charge,
        memo=memo,
        now=now,
    )
    charge.status, charge.settled_at = Charge.Status.EARNED, now
    charge.save(update_fields=["status", "settled_at"])
    return charge


def _refund(charge: Charge, *, memo: str = "", by: User | None = None) -> Charge:
    """Give the held money back, in full, to whoever paid."""
    now = timezone.now()
    _post(
        Kind.REFUND,
        [
            (_platform(Account.Kind.ESCROW), charge.amount),
            (_funding_account(charge), -charge.amount),
        ],
        charge=charge,
        package_purchase_id=charge.package_purchase_id,
        memo=memo,
        by=by,
        now=now,
    )
    if charge.source == Charge.Source.CLIENT and charge.amount > 0:
        _client_money_back(charge, charge.amount, by=by)
    charge.status, charge.settled_at = Charge.Status.REFUNDED, now
    charge.save(update_fields=["status", "settled_at"])
    return charge


def _settle(charge: Charge | None, outcome: Outcome, *, memo: str) -> Charge | None:
    if charge is None or charge.status != Charge.Status.HELD:
        return charge  # never charged, or settled already: the event happened once
    return _earn(charge, memo=memo) if outcome == Outcome.EARN else _refund(charge, memo=memo)


def _party(value: str, *, field: str, allowed: tuple[Party, ...]) -> Party:
    try:
        party = Party(value)
    except ValueError:
        party = None
    if party not in allowed:
        raise ValidationError(
            {field: [_("Choose one of: %(parties)s.") % {"parties": ", ".join(allowed)}]}
        )
    return party


@transaction.atomic
def ledger_booking_cancel(
    *, booking_id: int, by: str, cancelled_at: dt.datetime, start: dt.datetime
) -> Charge | None:
    """A booking cancelled before its start by `by` (client, counselor or staff), per the
    refund policy (billing.policy.cancellation_outcome). Call in the cancellation's
    transaction; the booking's own state rules were checked by the caller."""
    party = _party(by, field="by", allowed=(Party.CLIENT, Party.COUNSELOR, Party.STAFF))
    outcome = cancellation_outcome(by=party, cancelled_at=cancelled_at, start=start)
    memo = f"cancelled by {party.value}" + (" (late)" if outcome == Outcome.EARN else "")
    return _settle(_charge_locked(Charge.Subject.BOOKING, booking_id), outcome, memo=memo)


@transaction.atomic
def ledger_booking_no_show(*, booking_id: int, absent: str) -> Charge | None:
    """A session nobody held because `absent` (client, counselor or both) did not come."""
    party = _party(absent, field="party", allowed=(Party.CLIENT, Party.COUNSELOR, Party.BOTH))
    return _settle(
        _charge_locked(Charge.Subject.BOOKING, booking_id),
        no_show_outcome(absent=party),
        memo=f"no-show: {party.value}",
    )


@transaction.atomic
def ledger_booking_complete(*, booking_id: int) -> Charge | None:
    """The session took place: the counselor's earning becomes due, the fee the platform's."""
    return _settle(
        _charge_locked(Charge.Subject.BOOKING, booking_id), Outcome.EARN, memo="session given"
    )


@transaction.atomic
def ledger_group_seat_refund(*, seat_id: int) -> Charge | None:
    """A group seat given up (or its session cancelled): refunded in full. When a seat may
    still be given up with a refund is groups' rule."""
    return _settle(
        _charge_locked(Charge.Subject.GROUP_SEAT, seat_id), Outcome.REFUND, memo="seat given up"
    )


@transaction.atomic
def ledger_group_seat_complete(*, seat_id: int) -> Charge | None:
    """The group session took place: the seat's earning becomes due."""
    return _settle(
        _charge_locked(Charge.Subject.GROUP_SEAT, seat_id), Outcome.EARN, memo="group session given"
    )


@transaction.atomic
def ledger_booking_reprice(*, booking_id: int, amount) -> Charge | None:
    """A rescheduled booking whose price changed (a new length at the counselor's price):
    the difference is charged to, or given back to, whoever paid. 409 once settled."""
    amount = _amount(amount, field="price")
    charge = _charge_locked(Charge.Subject.BOOKING, booking_id)
    if charge is None or charge.amount == amount:
        return charge
    if charge.status != Charge.Status.HELD:
        raise Conflict(_("This session's payment is settled already."), code="charge_settled")
    if charge.source == Charge.Source.PACKAGE:
        # Its price is its share of the package: a new price would spend credit nobody bought.
        raise Conflict(
            _("A session of a package keeps its share of the package's price."),
            code="package_price_fixed",
        )
    delta = amount - charge.amount
    _post(
        Kind.ADJUSTMENT,
        [(_funding_account(charge), delta), (_platform(Account.Kind.ESCROW), -delta)],
        charge=charge,
        package_purchase_id=charge.package_purchase_id,
        memo=f"price {charge.amount} -> {amount}",
    )
    charge.amount = amount
    charge.save(update_fields=["amount"])
    if charge.source == Charge.Source.CLIENT:
        if delta > 0:
            _payment_request(
                Payment.Direction.COLLECT,
                amount=delta,
                account=account_for(Account.Kind.CLIENT, client_id=charge.client_id),
                charge=charge,
            )
        else:
            _client_money_back(charge, -delta)
    return charge


@transaction.atomic
def ledger_charge_reverse(*, charge_id: int, staff: User, reason: str) -> Charge:
    """Staff's correction: give a charge back in full to whoever paid, whatever its state.
    Held, it is refunded; earned, the earning and the fee are reversed by new entries (the
    counselor's account may go into debit if it was paid out: the next earnings offset it).
    403 for anyone but staff; 400 without a reason; 409 if refunded already."""
    if not staff.is_staff_member:
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the money goes back.")]})
    charge = Charge.objects.select_for_update().get(pk=charge_id)
    if charge.status == Charge.Status.REFUNDED:
        raise Conflict(_("This charge was refunded already."), code="already_refunded")
    if charge.status == Charge.Status.HELD:
        return _refund(charge, memo=reason, by=staff)
    counselor = account_for(Account.Kind.COUNSELOR, counselor_id=charge.counselor_id, lock=True)
    revenue = _platform(Account.Kind.REVENUE)
    earned = {
        e.account_id: e.amount
        for e in Entry.objects.filter(
            transaction__charge=charge,
            transaction__kind=Kind.EARNING,
            account__in=[counselor, revenue],
        )
    }
    _post(
        Kind.REVERSAL,
        [
            (counselor, -earned.get(counselor.pk, Decimal(0))),
            (revenue, -earned.get(revenue.pk, Decimal(0))),
            (_funding_account(charge), -charge.amount),
        ],
        charge=charge,
        package_purchase_id=charge.package_purchase_id,
        memo=reason,
        by=staff,
    )
    if charge.source == Charge.Source.CLIENT and charge.amount > 0:
        _client_money_back(charge, charge.amount, by=staff)
    charge.status = Charge.Status.REFUNDED
    charge.save(update_fields=["status"])
    return charge


# --- payouts ----------------------------------------------------------------------------------


def _due(account: Account) -> Decimal:
    balance = account.entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    in_flight = Payment.objects.filter(
        account=account,
        direction=Payment.Direction.PAYOUT,
        status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING],
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return -balance - in_flight


@transaction.atomic
def ledger_payout(*, counselor_id: int, staff: User) -> Payment:
    """Pay out a counselor's whole due balance through the gateway (staff only: 403). The
    counselor's account is locked first, so two payouts, or a payout and a reversal, never
    see the same balance. 409 `nothing_due` when nothing is due."""
    if not staff.is_staff_member:
        raise PermissionDenied
    if not Account.objects.filter(kind=Account.Kind.COUNSELOR, counselor_id=counselor_id).exists():
        raise Conflict(_("Nothing is due to this counselor."), code="nothing_due")
    account = account_for(Account.Kind.COUNSELOR, counselor_id=counselor_id, lock=True)
    due = _due(account)
    if due <= 0:
        raise Conflict(_("Nothing is due to this counselor."), code="nothing_due")
    return _payment_request(Payment.Direction.PAYOUT, amount=due, account=account, by=staff)


def payouts_all(*, staff: User) -> list[Payment]:
    """Pay out every counselor with a balance due, each in their own transaction."""
    payments = []
    for counselor_id in Account.objects.filter(kind=Account.Kind.COUNSELOR).values_list(
        "counselor_id", flat=True
    ):
        try:
            payments.append(ledger_payout(counselor_id=counselor_id, staff=staff))
        except Conflict:
            continue
    return payments


@transaction.atomic
def ledger_package_expire(*, purchase_id: int) -> LedgerTransaction | None:
    """A package purchase ended with credit left (sessions never booked): that credit goes
    back to the client, like a cancellation made in good time. Returns the refund posted,
    or None when nothing was left. Call once, in the transaction that marks the purchase
    expired (packages claims it with a conditional update)."""
    _positive_id(purchase_id, field="package")
    purchase = (
        LedgerTransaction.objects.select_for_update()
        .filter(kind=Kind.PACKAGE_PURCHASE, package_purchase_id=purchase_id)
        .first()
    )  # the purchase row's lock orders this after any consumption in flight
    if purchase is None:
        return None
    left = package_credit_left(purchase_id=purchase_id)
    if left <= 0:
        return None
    client_entry = purchase.entries.get(account__kind=Account.Kind.CLIENT)
    client = client_entry.account
    tx = _post(
        Kind.REFUND,
        [(_platform(Account.Kind.PACKAGES), left), (client, -left)],
        package_purchase_id=purchase_id,
        memo="package ended with sessions unused",
    )
    _payment_request(
        Payment.Direction.REFUND, amount=left, account=client, package_purchase_id=purchase_id
    )
    return tx
