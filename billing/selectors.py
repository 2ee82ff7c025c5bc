"""The ledger's reads, and who may see what: a counselor their own statement, staff the
platform's summary. Months are the viewer's calendar months (their time zone)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum

from billing.models import Account, Charge, Entry, LedgerTransaction, Payment

ZERO = Decimal("0.00")
Kind = LedgerTransaction.Kind
# The transactions that change what a counselor is owed, and the sign they show it with.
COUNSELOR_KINDS = (Kind.EARNING, Kind.REVERSAL, Kind.PAYOUT)


def month_bounds(month: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[first midnight of `month`, first midnight of the next) in `tz`, as aware datetimes."""
    first = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt


@dataclass
class StatementLine:
    posted_at: dt.datetime
    kind: str
    kind_label: str
    subject: str
    subject_id: int | None
    gross: Decimal
    fee: Decimal
    amount: Decimal  # what it changed the counselor's due balance by (earned > 0, paid < 0)


@dataclass
class Statement:
    month: dt.date
    timezone: str
    start: dt.datetime
    end: dt.datetime
    lines: list[StatementLine] = field(default_factory=list)
    due: Decimal = ZERO

    @property
    def totals(self) -> dict:
        def total(kind) -> Decimal:
            return sum((line.amount for line in self.lines if line.kind == kind), ZERO)

        earned = [line for line in self.lines if line.kind == Kind.EARNING]
        return {
            "sessions": len(earned),
            "gross": sum((line.gross for line in earned), ZERO),
            "fee": sum((line.fee for line in earned), ZERO),
            "earned": total(Kind.EARNING),
            "reversed": -total(Kind.REVERSAL),
            "paid_out": -total(Kind.PAYOUT),
            "net": sum((line.amount for line in self.lines), ZERO),
        }

    def weeks(self) -> list[tuple[dt.date, Decimal]]:
        """(Monday, what was earned net of reversals) for each week touching the month."""
        tz = ZoneInfo(self.timezone)
        first = self.start.astimezone(tz).date()
        last = (self.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
        monday = first - dt.timedelta(days=first.weekday())
        sums: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            if line.kind != Kind.PAYOUT:
                day = line.posted_at.astimezone(tz).date()
                sums[day - dt.timedelta(days=day.weekday())] += line.amount
        weeks = []
        while monday <= last:
            weeks.append((monday, sums[monday]))
            monday += dt.timedelta(days=7)
        return weeks


def counselor_due(*, counselor_id: int) -> Decimal:
    """What the platform owes the counselor now, less payouts on their way."""
    account = Account.objects.filter(kind=Account.Kind.COUNSELOR, counselor_id=counselor_id).first()
    if account is None:
        return ZERO
    balance = account.entries.aggregate(total=Sum("amount"))["total"] or ZERO
    in_flight = (
        Payment.objects.filter(
            account=account,
            direction=Payment.Direction.PAYOUT,
            status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING],
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return -balance - in_flight


def counselor_earned_between(*, counselor_id: int, start: dt.datetime, end: dt.datetime) -> Decimal:
    """What the counselor earned in [start, end), net of the fee and of staff reversals."""
    total = Entry.objects.filter(
        account__kind=Account.Kind.COUNSELOR,
        account__counselor_id=counselor_id,
        transaction__kind__in=[Kind.EARNING, Kind.REVERSAL],
        posted_at__gte=start,
        posted_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


def counselor_statement(*, user, month: dt.date) -> Statement:
    """The counselor's own lines of `month` (in their time zone) with their totals and what
    is due now. PermissionDenied for anyone who is not a counselor."""
    if not user.is_counselor:
        raise PermissionDenied
    tz = ZoneInfo(user.timezone)
    start, end = month_bounds(month, tz)
    statement = Statement(month=month, timezone=user.timezone, start=start, end=end)
    entries = list(
        Entry.objects.filter(
            account__kind=Account.Kind.COUNSELOR,
            account__counselor_id=user.pk,
            posted_at__gte=start,
            posted_at__lt=end,
        )
        .select_related("transaction__charge")
        .order_by("posted_at", "pk")
    )
    # The gross (the escrow released) and the fee of each earning or reversal, in one query.
    others: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for tx_id, kind, amount in Entry.objects.filter(
        transaction__in=[e.transaction_id for e in entries],
        account__kind__in=[Account.Kind.ESCROW, Account.Kind.REVENUE],
    ).values_list("transaction_id", "account__kind", "amount"):
        others[tx_id][kind] = amount
    labels = dict(Kind.choices)
    for entry in entries:
        tx, charge = entry.transaction, entry.transaction.charge
        fee = -others[tx.pk].get(Account.Kind.REVENUE, ZERO)
        statement.lines.append(
            StatementLine(
                posted_at=entry.posted_at,
                kind=tx.kind,
                kind_label=str(labels.get(tx.kind, tx.kind)),
                subject=charge.subject if charge else "",
                subject_id=charge.subject_id if charge else None,
                gross=-entry.amount + fee if tx.kind != Kind.PAYOUT else ZERO,
                fee=fee,
                amount=-entry.amount,
            )
        )
    statement.due = counselor_due(counselor_id=user.pk)
    return statement


def platform_summary(*, user, start: dt.datetime, end: dt.datetime) -> dict:
    """Staff's view of the ledger: each kind of money event in [start, end) (count and the
    money it moved), the balance of each kind of account now, and whether the whole ledger
    sums to zero. PermissionDenied for anyone but staff."""
    if not user.is_staff_member:
        raise PermissionDenied
    moved = {
        row["kind"]: row
        for row in LedgerTransaction.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("kind")
        .annotate(
            count=Count("pk", distinct=True),
            amount=Sum("entries__amount", filter=Q(entries__amount__gt=0)),
        )
    }
    labels = dict(Kind.choices)
    events = [
        {
            "kind": kind,
            "label": str(labels[kind]),
            "count": moved.get(kind, {}).get("count", 0),
            "amount": moved.get(kind, {}).get("amount") or ZERO,
        }
        for kind in Kind.values
    ]
    balances = {
        row["account__kind"]: row["total"]
        for row in Entry.objects.values("account__kind").annotate(total=Sum("amount"))
    }
    account_labels = dict(Account.Kind.choices)
    accounts = [
        {"kind": kind, "label": str(account_labels[kind]), "balance": balances.get(kind) or ZERO}
        for kind in Account.Kind.values
    ]
    unbalanced = (
        LedgerTransaction.objects.annotate(total=Sum("entries__amount")).exclude(total=0).count()
    )
    return {
        "start": start,
        "end": end,
        "events": events,
        "accounts": accounts,
        "held": Charge.objects.filter(status=Charge.Status.HELD).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO,
        "total": sum((a["balance"] for a in accounts), ZERO),
        "unbalanced_transactions": unbalanced,
    }
