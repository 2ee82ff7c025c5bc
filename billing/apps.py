from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Money, in double entry: accounts, balanced immutable transactions for every money
    event (charge, fee, earning, refund, allowance debit, package, group seat, payout), the
    refund policy, the payment gateway interface and the counselors' earnings statements."""

    name = "billing"
    verbose_name = "Billing"
