"""Demo data, accounts' part (`load_demo`): the shared password, the demo e-mail addresses,
the demo usernames, the role-clash check every demo account goes through, and the staff
and on-call supervisor accounts (through `staff_create`).

Clients and counselors are signed up by the command itself (the sign-up workflow lives in
`workflows`); this module only says whether such an account already exists.
"""

from __future__ import annotations

from accounts.models import User
from accounts.services import staff_create

DEMO_PASSWORD = "pianke-demo-2026"
# Demo usernames must stay unlike it: user_sign_up runs the password validators, and
# UserAttributeSimilarityValidator rejects e.g. "demo-park-ji-yeon" (too similar).
EMAIL_DOMAIN = "demo.pianke.example"  # .example is reserved: nothing is ever delivered there

CLIENT = "demo-client"
STAFF = "demo-staff"
SUPERVISOR = "demo-supervisor"


class AccountClash(Exception):
    """A demo username is taken by an account with another role."""


def demo_email(username: str) -> str:
    return f"{username}@{EMAIL_DOMAIN}"


def account_existing(username: str, role: str) -> User | None:
    """The demo account if it exists with the expected role, else None; an account with the
    name but another role raises AccountClash (it is someone else's: leave it alone)."""
    user = User.objects.filter(username=username).first()
    if user is not None and user.role != role:
        raise AccountClash(
            f"User {username!r} exists with role {str(user.role)!r}, not {str(role)!r}; "
            "rename or remove it and run load_demo again."
        )
    return user


def staff_seed(username: str, role: str) -> tuple[User, bool]:
    """The demo staff or supervisor account, created with DEMO_PASSWORD if missing (an
    existing one is left as it is, its password too). Returns it and whether it is new."""
    user = account_existing(username, role)
    if user is not None:
        return user, False
    user = staff_create(
        username=username, password=DEMO_PASSWORD, email=demo_email(username), role=role
    )
    return user, True
