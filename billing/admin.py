"""The ledger in the admin: read only (entries are never edited), with one action, paying out
a counselor's due balance through billing.services.ledger_payout."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.models import Account, Charge, Entry, LedgerTransaction, Payment
from billing.services import ledger_payout
from core.admin import DeletionRefused
from core.exceptions import Conflict


class ReadOnlyAdmin(DeletionRefused, admin.ModelAdmin):
    """The ledger is append-only: a mistake is corrected by a new transaction, never by
    editing or deleting one."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "client", "counselor", "organisation_id", "created_at"]
    list_filter = ["kind"]
    actions = ["pay_out"]

    @admin.action(description=_("Pay out the due balance (counselor accounts)"))
    def pay_out(self, request, queryset):
        for account in queryset.filter(kind=Account.Kind.COUNSELOR):
            try:
                payment = ledger_payout(counselor_id=account.counselor_id, staff=request.user)
            except Conflict as exc:
                self.message_user(request, f"{account}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"{account}: {payment.amount} ({payment.status})")


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount", "posted_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "charge", "memo", "created_at"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"
    inlines = [EntryInline]


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ["id", "subject", "subject_id", "amount", "source", "status", "created_at"]
    list_filter = ["subject", "source", "status"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "direction", "amount", "status", "account", "created_at", "settled_at"]
    list_filter = ["direction", "status"]
