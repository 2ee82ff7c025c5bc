"""The authorization matrix of the Django admin's actions: every action of every ModelAdmin
registered for one of our apps, POSTed to its changelist (`action`, `_selected_action`, `index`)
by anonymous, a client and staff. An action without a case here fails, naming it: a new action
cannot ship unexamined.

- anonymous and a client (not `is_staff`): redirected to the admin's sign-in page;
- staff: the staff persona as `create_staff` makes it (StaffFactory, in the "Pianke staff"
  group of accounts.services.staff_group_get: the admin permissions on accounts, counselors,
  listening, ethics and authtoken); allowed or refused per the action's permissions.

A refused call changes nothing: neither the selected row nor the number of rows of any of our
models (a payout adds rows and changes none). Django's `delete_selected` is judged apart
(test_delete_selected_is_gated), over every ModelAdmin: it only asks for a confirmation, and
it is offered to staff exactly where the admin grants them the delete permission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.services import staff_group_get
from billing.models import Account, Payment
from billing.services import ledger_booking_complete
from counselors.models import CounselorProfile, Credential, Offering, VerificationRecord
from ethics.models import AuditLog, Complaint, FlagNote, OnCallShift
from matching.models import Presence, SurgeCall
from tests.billing.factories import charge_booking
from tests.factories import (
    ClientFactory,
    CounselorProfileFactory,
    FeedbackFactory,
    OfferingFactory,
    StaffFactory,
    UserFactory,
)
from tests.security.routes import Scene

OUR_APPS = (
    "accounts",
    "counselors",
    "ethics",
    "intake",
    "organisations",
    "billing",
    "packages",
    "listening",
    "groups",
    "matching",
    "insights",
    "oversight",
    "workflows",
)
PERSONAS = ("anon", "client", "staff")


def _admins() -> dict[str, admin.ModelAdmin]:
    return {
        model._meta.label_lower: model_admin
        for model, model_admin in sorted(
            admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower
        )
        if model._meta.app_label in OUR_APPS
    }


ADMINS = _admins()
# Every action an admin has, before the per-request permission filter (the site's and its own).
ACTIONS = sorted(
    (label, name)
    for label, model_admin in ADMINS.items()
    for _func, name, _description in model_admin._get_base_actions()
    if name != "delete_selected"
)


@dataclass(frozen=True)
class Case:
    row: Callable[[], Model]  # a real row for the action to act on
    staff: str  # "allowed" or "refused"
    done: Callable[[Model], bool]  # the action's effect, seen on the (refreshed) row
    data: dict = field(default_factory=dict)  # the rest of the action's form, if it has one
    xfail: str = ""  # a known gap between what is intended and what happens


def _counselor_account() -> Account:
    """A counselor's ledger account with a balance due (one completed, paid session)."""
    counselor = CounselorProfileFactory()
    charge = charge_booking(client=ClientFactory(), counselor=counselor)
    ledger_booking_complete(booking_id=charge.subject_id)
    return Account.objects.get(kind=Account.Kind.COUNSELOR, counselor_id=counselor.pk)


CASES = {
    # accounts.services.user_suspend: sign-in blocked, tokens revoked, sockets closed.
    ("accounts.user", "suspend"): Case(
        row=ClientFactory, staff="allowed", done=lambda user: not user.is_active
    ),
    # counselors.services.counselor_verify, a staff decision recorded with its reviewer.
    ("counselors.counselorprofile", "approve"): Case(
        row=lambda: CounselorProfileFactory(verification=CounselorProfile.Verification.PENDING),
        staff="allowed",
        done=lambda profile: (
            profile.verification == CounselorProfile.Verification.VERIFIED
            and VerificationRecord.objects.filter(counselor=profile, approved=True).exists()
        ),
    ),
    ("counselors.counselorprofile", "reject"): Case(
        row=CounselorProfileFactory,
        staff="allowed",
        done=lambda profile: (
            profile.verification == CounselorProfile.Verification.REJECTED
            and VerificationRecord.objects.filter(counselor=profile, approved=False).exists()
        ),
    ),
    # The intermediate page asks for the reason; `apply` submits it.
    ("counselors.offering", "unpublish"): Case(
        row=OfferingFactory,
        staff="allowed",
        done=lambda offering: offering.status == Offering.Status.UNPUBLISHED,
        data={"apply": "1", "reason": "The description promises therapy."},
    ),
    # "Admin: the action on Accounts" (docs/billing.md, Payouts): staff pay out. The admin
    # (billing/admin.py) asks no permission of its own; staff reach the Accounts list through
    # the staff group's billing permissions (accounts.services.STAFF_APPS).
    ("billing.account", "pay_out"): Case(
        row=_counselor_account,
        staff="allowed",
        done=lambda account: Payment.objects.filter(
            account=account, direction=Payment.Direction.PAYOUT
        ).exists(),
    ),
}
# Actions with no sensible row to act on, each with the reason. None so far.
NO_ROW: dict[tuple[str, str], str] = {}


def _staff():
    staff = StaffFactory()
    staff.groups.add(staff_group_get())
    return staff


def _browsers(staff=None) -> dict[str, Client]:
    browsers = {role: Client(raise_request_exception=False) for role in PERSONAS}
    browsers["client"].force_login(ClientFactory())
    browsers["staff"].force_login(staff or _staff())
    return browsers


def _fingerprint(row: Model) -> tuple:
    """The row's values and the number of rows of every model of our apps."""
    counts = tuple(
        (model._meta.label, model._base_manager.count())
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and model._meta.managed
    )
    values = type(row)._base_manager.filter(pk=row.pk).values().first()
    return values, counts


def _post(browser: Client, label: str, action: str, pk, data: dict | None = None):
    url = reverse(f"admin:{label.replace('.', '_')}_changelist")
    body = {"action": action, ACTION_CHECKBOX_NAME: [str(pk)], "index": "0", **(data or {})}
    return browser.post(url, body)


def _to_admin_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_every_action_has_a_case_and_every_case_an_action():
    missing = sorted(set(ACTIONS) - CASES.keys() - NO_ROW.keys())
    stale = sorted((CASES.keys() | NO_ROW.keys()) - set(ACTIONS))
    assert not missing, f"admin actions with no case: {missing}"
    assert not stale, f"cases naming no admin action: {stale}"
    assert not CASES.keys() & NO_ROW.keys()


def test_every_app_of_ours_is_one_of_the_project():
    assert set(OUR_APPS) <= {config.label for config in apps.get_app_configs()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "label, action",
    [
        pytest.param(
            *key,
            marks=[pytest.mark.xfail(reason=CASES[key].xfail, strict=True)]
            if key in CASES and CASES[key].xfail
            else [],
            id=f"{key[0]}:{key[1]}",
        )
        for key in ACTIONS
        if key not in NO_ROW
    ],
)
def test_admin_action(label, action):
    case = CASES[label, action]
    row = case.row()
    browsers = _browsers()
    problems = []
    for role in ("anon", "client"):
        before = _fingerprint(row)
        response = _post(browsers[role], label, action, row.pk, case.data)
        if not _to_admin_login(response):
            problems.append(f"{role}: {response.status_code}, not the admin's sign-in page")
        if _fingerprint(row) != before:
            problems.append(f"{role}: the call changed something")
    before = _fingerprint(row)
    response = _post(browsers["staff"], label, action, row.pk, case.data)
    changed = _fingerprint(row) != before
    row.refresh_from_db()
    if case.staff == "allowed":
        if response.status_code != 302 or _to_admin_login(response):
            problems.append(f"staff: {response.status_code}, not back to the list")
        if not case.done(row):
            problems.append("staff: allowed, but the action did not happen")
    else:
        if changed:
            problems.append("staff: refused, but the call changed something")
    assert not problems, "\n".join(problems)


# --- delete_selected -----------------------------------------------------------------------


def _rows_beside_the_scene(scene: Scene) -> None:
    """One row of each model the scene has none of (Scene: tests/security/routes.py)."""
    now = timezone.now()
    staff, supervisor = scene.users["staff"], scene.users["supervisor"]
    Credential.objects.create(
        counselor=scene.counselor, licence_type="psychologist", number="m-1", issuing_body="b"
    )
    VerificationRecord.objects.create(counselor=scene.counselor, reviewer=staff, approved=True)
    FeedbackFactory(booking__counselor=scene.counselor, booking__client=scene.users["client"])
    OnCallShift.objects.create(
        supervisor=supervisor, starts_at=now, ends_at=now + dt.timedelta(hours=8)
    )
    Complaint.objects.create(
        flag=scene.flag, booking=scene.booking, client=scene.users["client"], text="a complaint"
    )
    FlagNote.objects.create(flag=scene.flag, author=staff, text="a note")
    AuditLog.objects.create(
        actor=staff, action=AuditLog.Action.values[0], flag=scene.flag, detail="d"
    )
    Presence.objects.create(counselor=scene.counselor, online=False)
    SurgeCall.objects.create(surge=scene.surge, counselor=scene.counselor, created_at=now)


# Models whose admin offers staff delete_selected (the delete permission of the staff group and
# no has_delete_permission of the admin's own against it), pinned here so that a change to
# either is seen in review. Everything else: not offered to staff.
STAFF_MAY_DELETE = {
    "accounts.intake",
    "accounts.user",
    "counselors.availabilitywindow",
    "counselors.counselorprofile",
    "counselors.credential",
    "counselors.offering",
    "counselors.specialty",
    "counselors.toolkititem",
    "ethics.ethicsflag",
    "ethics.flagnote",
    "ethics.oncallshift",
    "ethics.referral",
    "ethics.resource",
    "listening.booking",
    "listening.feedback",
    "listening.sessionmessage",
}


def test_the_staff_may_delete_list_names_admins():
    assert STAFF_MAY_DELETE <= ADMINS.keys()


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(ADMINS))
def test_delete_selected_is_gated(label):
    """Anonymous and a client reach no admin; staff are offered delete_selected where the
    admin lets them delete, and even then the first POST only asks them to confirm."""
    model_admin = ADMINS[label]
    scene = Scene()
    _rows_beside_the_scene(scene)
    row = model_admin.model._base_manager.order_by("pk").first()
    assert row is not None, f"{label}: no row in the scene"
    staff = _staff()
    browsers = _browsers(staff)
    request = RequestFactory().get("/admin/")
    request.user = staff
    offered = "delete_selected" in model_admin.get_actions(request)
    assert offered == model_admin.has_delete_permission(request)
    assert offered == (label in STAFF_MAY_DELETE), f"{label}: offered to staff: {offered}"
    problems = []
    for role in PERSONAS:
        before = _fingerprint(row)
        response = _post(browsers[role], label, "delete_selected", row.pk)
        if _fingerprint(row) != before:
            problems.append(f"{role}: the call deleted something")
        if role != "staff":
            if not _to_admin_login(response):
                problems.append(f"{role}: {response.status_code}, not the admin's sign-in page")
        elif offered:
            # The confirmation page (or, for a row others protect, why it cannot be deleted).
            templates = [t.name for t in response.templates]
            if response.status_code != 200 or not any(
                name.endswith("delete_selected_confirmation.html") for name in templates
            ):
                problems.append(f"staff: {response.status_code}, not the confirmation page")
        # Not offered: 403 (no view permission), back to the list ("No action selected"), or
        # the list itself (an admin left with no action at all ignores the POST).
        elif response.status_code not in (200, 302, 403) or _to_admin_login(response):
            problems.append(f"staff: {response.status_code}, neither refused nor the list")
    assert not problems, "\n".join(problems)
