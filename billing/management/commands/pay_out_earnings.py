from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from billing.services import ledger_payout, payouts_all
from core.exceptions import Conflict


class Command(BaseCommand):
    help = (
        "Pay out counselors' due balances through the payment gateway, posted to the ledger. "
        "Run as a staff member (--staff USERNAME), for one counselor (--counselor ID) or all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--staff", required=True, help="the staff member's username")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--counselor", type=int, help="the counselor's id")
        who.add_argument("--all", action="store_true", help="every counselor with a balance due")

    def handle(self, *args, staff, counselor, all, **options):
        user = User.objects.filter(username=staff).first()
        if user is None or not user.is_staff_member:
            raise CommandError(f"{staff}: no staff member by this name.")
        try:
            if all:
                payments = payouts_all(staff=user)
            else:
                payments = [ledger_payout(counselor_id=counselor, staff=user)]
        except (Conflict, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        for p in payments:
            self.stdout.write(f"counselor {p.account.counselor_id}: {p.amount} ({p.status})")
        self.stdout.write(self.style.SUCCESS(f"{len(payments)} payout(s)."))
