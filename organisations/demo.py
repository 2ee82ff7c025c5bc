"""Demo data, organisations' part (`load_demo`): a demo employer with a join code and an
allowance, and its admin (an ordinary client account, signed up by the command). The demo
client is left outside it, so that joining with the code can be tried on a fresh `make run`.
Idempotent: an existing organisation keeps its settings."""

from __future__ import annotations

from accounts.models import User
from core.sessions import SESSION_LENGTHS, SessionMode
from organisations.models import Organisation
from organisations.services import allowance_set, organisation_admin_add, organisation_create

ORGANISATION = "Demo Co. (EAP)"
JOIN_CODE = "DEMO-EAP-2026"
ADMIN = "demo-org-admin"


def organisation_seed(*, admin: User) -> tuple[Organisation, bool]:
    """The demo organisation with its allowance (4 sessions per member, 200 in all, per
    quarter; every length and mode) and `admin` as its admin. Returns it and whether it is new."""
    organisation = Organisation.objects.filter(name=ORGANISATION).first()
    created = organisation is None
    if created:
        organisation = organisation_create(
            name=ORGANISATION, kind=Organisation.Kind.COMPANY, join_code=JOIN_CODE
        )
        allowance_set(
            organisation=organisation,
            sessions_per_member=4,
            pool_per_quarter=200,
            durations=list(SESSION_LENGTHS),
            modes=list(SessionMode.values),
        )
    organisation_admin_add(organisation=organisation, user=admin)
    return organisation, created
