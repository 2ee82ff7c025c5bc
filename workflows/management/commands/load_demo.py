"""`python manage.py load_demo`: demo counselors, a demo client, staff and an on-call supervisor.

Idempotent, so `make run` calls it on every start: an account that already exists is left
as it is (its password too), and availability is only added to a demo counselor who has no
current window. Everything goes through the services, so the same validation runs as for
the API. Fixed, documented passwords: refused under DEBUG=false unless --force is given.

Each app seeds its own part (`accounts.demo`, `intake.demo`, `counselors.demo`), bottom
layer first; this command signs clients and counselors up (`user_sign_up`), runs the parts
in one transaction and reports what it did.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import (
    CLIENT,
    DEMO_PASSWORD,
    STAFF,
    SUPERVISOR,
    AccountClash,
    account_existing,
    demo_email,
    staff_seed,
)
from accounts.models import User
from counselors.demo import COUNSELORS, DemoCounselor, counselor_seed
from groups.demo import group_seed
from intake.demo import intake_seed
from organisations.demo import ADMIN as ORGANISATION_ADMIN
from organisations.demo import JOIN_CODE, organisation_seed
from workflows.services import user_sign_up


class Command(BaseCommand):
    help = (
        "Load demo data: a dozen verified counselors with weekly availability, a demo client, "
        f"staff and an on-call supervisor, all with the password {DEMO_PASSWORD!r}. Idempotent. "
        "Refused under DEBUG=false unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="load the demo accounts even though DEBUG is false (never in production)",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo accounts with known passwords while DEBUG is false. "
                "Pass --force if this really is a demo or test site."
            )
        self.verbosity = options.get("verbosity", 1)
        self.created = {"users": 0, "windows": 0}
        self.rows: list[tuple[str, str, str, str]] = []
        try:
            with transaction.atomic():
                try:
                    staff = self._staff(STAFF, User.Role.STAFF)  # every verification needs it
                except AccountClash as exc:
                    raise CommandError(str(exc)) from exc
                steps = [
                    lambda: self._staff(SUPERVISOR, User.Role.SUPERVISOR),
                    self._client,
                    self._organisation,
                ]
                steps += [
                    lambda spec=spec: self._counselor(spec, reviewer=staff) for spec in COUNSELORS
                ]
                for step in steps:
                    try:
                        step()
                    except AccountClash as exc:  # someone else's account with a demo name
                        self.stderr.write(self.style.WARNING(f"Skipped: {exc}"))
        except ValidationError as exc:
            raise CommandError("Demo data failed validation: " + "; ".join(exc.messages)) from exc
        self._report()

    # --- the steps: one per account, each app doing its part -------------------------

    def _staff(self, username: str, role: str) -> User:
        user, created = staff_seed(username, role)
        label = "staff / 工作人员" if role == User.Role.STAFF else "on-call supervisor / 值班督导"
        self._row(user, label, created)
        return user

    def _client(self) -> None:
        user, created = self._signed_up(
            CLIENT, User.Role.CLIENT, timezone="Asia/Shanghai", language="zh-hans"
        )
        self._row(user, "client / 来访者", created)
        intake_seed(user)  # so the demo client can book at once

    def _organisation(self) -> None:
        """A demo employer with a join code and an allowance; its admin is a client account."""
        user, created = self._signed_up(
            ORGANISATION_ADMIN, User.Role.CLIENT, timezone="Asia/Shanghai", language="en"
        )
        organisation, _new = organisation_seed(admin=user)
        self._row(user, f"admin of {organisation.name} (join code {JOIN_CODE})", created)

    def _counselor(self, spec: DemoCounselor, *, reviewer: User) -> None:
        user, created = self._signed_up(
            spec.username, User.Role.COUNSELOR, timezone=spec.timezone, language=spec.language
        )
        profile, windows = counselor_seed(user, spec, reviewer=reviewer, new=created)
        self._row(user, profile.display_name, created)
        self.created["windows"] += windows
        if spec is COUNSELORS[0]:  # one themed group to join (groups.demo)
            group_seed(profile)

    def _signed_up(self, username: str, role: str, **preferences: str) -> tuple[User, bool]:
        """The demo client or counselor account, signed up with DEMO_PASSWORD if missing;
        returns it and whether it is new. A role clash raises AccountClash."""
        user = account_existing(username, role)
        if user is not None:
            return user, False
        user = user_sign_up(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            email=demo_email(username),
            **preferences,
        )
        return user, True

    # --- output ------------------------------------------------------------------------

    def _row(self, user: User, label: str, created: bool) -> None:
        if created:
            self.created["users"] += 1
        self.rows.append((user.username, user.role, "created" if created else "existing", label))

    def _report(self) -> None:
        created_users, created_windows = self.created["users"], self.created["windows"]
        if created_users or created_windows:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded: {created_users} new accounts, {created_windows} new availability windows."
                )
            )
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        if self.verbosity < 1:
            return
        headers = ("username", "role", "status", "who")
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) for i, h in enumerate(headers)]

        def line(cells):
            return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

        self.stdout.write(line(headers))
        self.stdout.write(line("-" * w for w in widths))
        for row in self.rows:
            self.stdout.write(line(row))
        self.stdout.write(
            f"Password for every demo account (unless changed since): {DEMO_PASSWORD}"
        )
