"""The earnings ledger, in double entry (docs/billing.md).

Every money event is one `LedgerTransaction` of two or more `Entry` rows whose amounts sum to
zero (a positive amount is a debit, a negative one a credit). Entries and transactions are
never changed or deleted: a correction is a new transaction. The database enforces both
(migration 0002): a trigger refuses UPDATE and DELETE on them, and a deferred constraint
trigger refuses to commit a transaction whose entries do not sum to zero.

Amounts are `Decimal` with two places (yuan and fen), like the prices they come from
(`CounselorProfile.price_15`, `Booking.price`): PostgreSQL's numeric adds them exactly, so no
conversion to minor units happens at any boundary. The one rounding, the platform fee, is done
once, to the fen, half up, and the counselor's earning is what remains of the charge, so a
charge always splits exactly.

The ledger sits below `listening` and `organisations` in the layers: it names a booking, a
group seat, a package purchase and an organisation by plain integer ids, never by a foreign
key, and the callers pass the facts (who, how much) with them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from counselors.models import CounselorProfile

MONEY = {"max_digits": 12, "decimal_places": 2}


class Account(models.Model):
    """One account of the ledger. The platform's own (gateway, escrow, revenue, packages) are
    one each; clients, counselors and organisations have one each, made on first use."""

    class Kind(models.TextChoices):
        GATEWAY = "gateway", _("Money at the payment gateway")
        ESCROW = "escrow", _("Held for sessions not yet given")
        REVENUE = "revenue", _("Platform fees")
        PACKAGES = "packages", _("Prepaid package credit")
        CLIENT = "client", _("Client")
        COUNSELOR = "counselor", _("Counselor earnings")
        ORGANISATION = "organisation", _("Organisation allowance")

    PLATFORM_KINDS = [Kind.GATEWAY, Kind.ESCROW, Kind.REVENUE, Kind.PACKAGES]

    kind = models.CharField(max_length=16, choices=Kind.choices)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    counselor = models.ForeignKey(
        CounselorProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    # organisations.Organisation's id: no foreign key (that app is a layer below and its
    # models are not ours to depend on).
    organisation_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["gateway", "escrow", "revenue", "packages"]),
                name="account_platform_once",
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(kind="client"), name="account_client_once"
            ),
            models.UniqueConstraint(
                fields=["counselor"], condition=Q(kind="counselor"), name="account_counselor_once"
            ),
            models.UniqueConstraint(
                fields=["organisation_id"],
                condition=Q(kind="organisation"),
                name="account_organisation_once",
            ),
            # Exactly the owner its kind names, and no other.
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["gateway", "escrow", "revenue", "packages"],
                        client__isnull=True,
                        counselor__isnull=True,
                        organisation_id__isnull=True,
                    )
                    | Q(
                        kind="client",
                        client__isnull=False,
                        counselor__isnull=True,
                        organisation_id__isnull=True,
                    )
                    | Q(
                        kind="counselor",
                        client__isnull=True,
                        counselor__isnull=False,
                        organisation_id__isnull=True,
                    )
                    | Q(
                        kind="organisation",
                        client__isnull=True,
                        counselor__isnull=True,
                        organisation_id__isnull=False,
                    )
                ),
                name="account_owner_matches_kind",
            ),
        ]

    def __str__(self):
        owner = self.client_id or self.counselor_id or self.organisation_id
        return f"{self.kind} {owner}" if owner else self.kind


class Charge(models.Model):
    """Where the money of one paid-for thing stands: a booking or a group seat, funded by the
    client, an organisation's allowance or a package. `status` moves once, from held to earned
    (the session took place, or the policy pays the counselor) or refunded; the entries are the
    record, this row is the state that serialises the events (locked by each)."""

    class Subject(models.TextChoices):
        BOOKING = "booking", _("Session")
        GROUP_SEAT = "group_seat", _("Group seat")

    class Source(models.TextChoices):
        CLIENT = "client", _("Paid by the client")
        ORGANISATION = "organisation", _("Paid from an organisation's allowance")
        PACKAGE = "package", _("Paid from a package")

    class Status(models.TextChoices):
        HELD = "held", _("Held until the session")
        EARNED = "earned", _("Earned")
        REFUNDED = "refunded", _("Refunded")

    subject = models.CharField(max_length=16, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField()
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counselor = models.ForeignKey(
        CounselorProfile, on_delete=models.PROTECT, related_name="ledger_charges"
    )
    amount = models.DecimalField(**MONEY)
    # The rate when charged: a later change of PLATFORM_FEE_RATE does not touch booked sessions.
    fee_rate = models.DecimalField(max_digits=5, decimal_places=4)
    source = models.CharField(max_length=16, choices=Source.choices)
    organisation_id = models.PositiveBigIntegerField(null=True, blank=True)
    package_purchase_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live charge per thing; a refunded seat may be taken (and charged) again.
            models.UniqueConstraint(
                fields=["subject", "subject_id"],
                condition=~Q(status="refunded"),
                name="charge_live_once",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="charge_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(fee_rate__gte=0, fee_rate__lt=1), name="charge_fee_rate_range"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        source="client",
                        organisation_id__isnull=True,
                        package_purchase_id__isnull=True,
                    )
                    | Q(
                        source="organisation",
                        organisation_id__isnull=False,
                        package_purchase_id__isnull=True,
                    )
                    | Q(
                        source="package",
                        organisation_id__isnull=True,
                        package_purchase_id__isnull=False,
                    )
                ),
                name="charge_source_matches_payer",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["held", "earned", "refunded"]), name="charge_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="held", settled_at__isnull=True)
                | (~Q(status="held") & Q(settled_at__isnull=False)),
                name="charge_settled_when_not_held",
            ),
        ]

    def __str__(self):
        return f"charge {self.subject} {self.subject_id} ({self.status})"


class LedgerTransaction(models.Model):
    """One money event: its entries sum to zero. Never changed; a correction is a new one."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Session charged to the client")
        ALLOWANCE = "allowance", _("Session paid from an organisation's allowance")
        PACKAGE_PURCHASE = "package_purchase", _("Package bought")
        PACKAGE_CONSUMPTION = "package_consumption", _("Session paid from a package")
        ADJUSTMENT = "adjustment", _("Price changed by a reschedule")
        EARNING = "earning", _("Session given: earning and platform fee")
        REFUND = "refund", _("Refund")
        REVERSAL = "reversal", _("Earning reversed by staff")
        COLLECTION = "collection", _("Payment received from the client")
        REFUND_PAYMENT = "refund_payment", _("Refund paid back to the client")
        PAYOUT = "payout", _("Paid out to the counselor")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    payment = models.ForeignKey(
        "Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    package_purchase_id = models.PositiveBigIntegerField(null=True, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # A package purchase's remaining credit: its purchase and consumption transactions.
            models.Index(
                fields=["package_purchase_id"],
                condition=Q(package_purchase_id__isnull=False),
                name="ledgertx_package_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.pk}"


class Entry(models.Model):
    """One line of a transaction: a debit (amount > 0) or a credit (amount < 0) of one account.
    `posted_at` is the transaction's time, copied so a month of one account is one index range."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**MONEY)
    posted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]
        indexes = [
            # A counselor's statement (`earnings/?month=`): their account's lines in a month;
            # also every balance (the sum of one account's entries).
            models.Index(fields=["account", "posted_at"], name="entry_account_posted_idx"),
        ]

    def __str__(self):
        return f"{self.amount} on {self.account}"


class Payment(models.Model):
    """The outbox of the payment gateway: one collection from a client, refund to a client or
    payout to a counselor. Written in the transaction of the money event it follows; with a
    gateway that settles at once it settles in that transaction, else a Celery task claims it
    (pending → processing, a conditional update) and calls the gateway. The money movement is
    posted to the ledger when the payment settles."""

    class Direction(models.TextChoices):
        COLLECT = "collect", _("Collect from the client")
        REFUND = "refund", _("Refund to the client")
        PAYOUT = "payout", _("Pay out to the counselor")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("With the gateway")
        SETTLED = "settled", _("Settled")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled before it was sent")

    direction = models.CharField(max_length=8, choices=Direction.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(**MONEY)
    # The client's or the counselor's account the money moves for.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    package_purchase_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Sent to the gateway as its idempotency key: a retried call never moves money twice.
    key = models.UUIDField(unique=True)
    reference = models.CharField(max_length=100, blank=True)
    failure = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "processing", "settled", "failed", "cancelled"]),
                name="payment_status_valid",
            ),
        ]
        indexes = [
            # The sweep of payments left pending or processing (payments_process_pending), and a
            # counselor's payouts in flight (subtracted from what is due).
            models.Index(fields=["status", "created_at"], name="payment_status_created_idx"),
            models.Index(fields=["account", "status"], name="payment_account_status_idx"),
        ]

    def __str__(self):
        return f"{self.direction} {self.amount} ({self.status})"
