import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import staff_create


class Command(BaseCommand):
    help = "Create a staff member or an on-call supervisor (they cannot sign themselves up)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role", choices=[User.Role.STAFF, User.Role.SUPERVISOR], default=User.Role.STAFF
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="omit to be asked for it")

    def handle(self, *args, username, role, email, password, **options):
        password = password or getpass.getpass("Password: ")
        try:
            user = staff_create(username=username, password=password, email=email, role=role)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {m}" for field, ms in exc.message_dict.items() for m in ms)
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.get_role_display()} {user.username} (id {user.id}).")
        )
