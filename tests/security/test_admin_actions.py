"""The authorization matrix of the Django admin's actions: every action of every ModelAdmin
registered for one of our apps, POSTed to its changelist (`action`, `_selected_action`, `index`)
by anonymous, a client and staff. An action without a case here fails, naming it: a new action
cannot ship unexamined.

- anonymous and a client (not `is_staff`): redirected to the admin's sign-in page;
- staff: the staff persona as `create_staff` makes it (StaffFactory, in the "Pianke staff"
  group of accounts.services.staff_group_sync: view, add and change on the models of
  accounts.services.STAFF_APPS, delete on STAFF_MAY_DELETE only); allowed or refused per the
  action's permissions.

A refused call changes nothing: neither the selected row nor the number of rows of any of our
models (a payout adds rows and changes none). Deletion is judged apart (test_deletion_is_gated),
over every ModelAdmin: `delete_selected`, the delete view, the change page's delete link and
its inlines' delete boxes. Staff may delete only the rows of STAFF_MAY_DELETE below; clinical
and audit records go only through the services (core.admin)."""

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

from accounts.services import staff_group_sync
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
    staff.groups.add(staff_group_sync())
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


# --- deletion ------------------------------------------------------------------------------


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


# Every admin of ours is in exactly one of these three, pinned here so that a change to the
# staff group's permissions (accounts.services.STAFF_MAY_DELETE) or to an admin's
# has_delete_permission (core.admin) is seen in review.
#
# Staff may delete: reference data they maintain (a used one is protected by the rows naming it).
STAFF_MAY_DELETE = {
    "counselors.availabilitywindow",
    "counselors.specialty",
    "ethics.oncallshift",
    "ethics.resource",
}
# Only a superuser may delete (core.admin.SuperuserDeletes): staff take these down the services'
# way (unpublish, withdraw, deactivate, end the duty).
SUPERUSER_DELETES = {
    "counselors.credential",
    "counselors.offering",
    "matching.presence",
    "organisations.organisation",
    "packages.package",
}
# Nobody deletes in the admin (core.admin.DeletionRefused, billing's ReadOnlyAdmin): clinical
# and audit records, gone only through the retention purge, account erasure, or never.
NOBODY_DELETES = {
    "accounts.consentrecord",
    "accounts.intake",
    "accounts.user",
    "billing.account",
    "billing.charge",
    "billing.ledgertransaction",
    "billing.payment",
    "counselors.counselorprofile",
    "counselors.toolkititem",
    "counselors.verificationrecord",
    "ethics.auditlog",
    "ethics.complaint",
    "ethics.crisisalert",
    "ethics.ethicsflag",
    "ethics.flagnote",
    "ethics.referral",
    "listening.booking",
    "listening.feedback",
    "listening.sessionmessage",
    "matching.matchrequest",
    "matching.surge",
    "matching.surgecall",
    "organisations.allowanceclaim",
    "organisations.membership",
    "packages.packagepurchase",
}
# Inlines whose rows staff may delete from their parent's change page: revoking an
# organisation admin's role. Every other inline shows staff no delete box.
STAFF_MAY_DELETE_INLINES = {"organisations.organisationadmin"}


def test_every_admin_has_one_deletion_rule():
    rules = (STAFF_MAY_DELETE, SUPERUSER_DELETES, NOBODY_DELETES)
    assert sum(len(rule) for rule in rules) == len(set().union(*rules)), "in two lists"
    assert set().union(*rules) == ADMINS.keys()


def _superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _delete_url(label: str, pk) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_delete", args=[pk])


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(ADMINS))
def test_deletion_is_gated(label):
    """Anonymous and a client reach no admin. Staff are offered delete_selected, the delete
    view and the change page's delete link where the admin lets them delete (and even then
    the first POST only asks them to confirm); elsewhere the delete view answers 403 and
    posting delete_selected deletes nothing. A superuser is refused where nobody deletes."""
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
    assert offered == model_admin.has_delete_permission(request, row)
    assert offered == (label in STAFF_MAY_DELETE), f"{label}: offered to staff: {offered}"
    request.user = _superuser()
    assert model_admin.has_delete_permission(request, row) == (label not in NOBODY_DELETES)
    assert ("delete_selected" in model_admin.get_actions(request)) == (label not in NOBODY_DELETES)
    problems = []
    # The change page (read-only where staff may not change): a delete link only where
    # offered, and no inline's delete box but the listed ones.
    change = browsers["staff"].get(
        reverse(f"admin:{label.replace('.', '_')}_change", args=[row.pk])
    )
    if change.status_code != 200:
        problems.append(f"staff: change page {change.status_code}")
    else:
        if (_delete_url(label, row.pk) in change.content.decode()) != offered:
            problems.append(f"staff: delete link shown: {not offered}")
        for inline in change.context["inline_admin_formsets"]:
            inline_label = inline.opts.model._meta.label_lower
            if inline.formset.can_delete != (inline_label in STAFF_MAY_DELETE_INLINES):
                problems.append(f"staff: {inline_label} inline can_delete is wrong")
        changelist = browsers["staff"].get(reverse(f"admin:{label.replace('.', '_')}_changelist"))
        if not offered and "delete_selected" in changelist.content.decode():
            problems.append("staff: delete_selected is in the changelist's actions")
    # The delete view, confirmed: refused (403, nothing deleted) where not offered; where
    # offered only asked for (GET), since a POST would delete.
    for role in PERSONAS:
        if role == "staff" and offered:
            response = browsers[role].get(_delete_url(label, row.pk))
            if response.status_code != 200:
                problems.append(f"staff: delete page {response.status_code}")
            continue
        before = _fingerprint(row)
        response = browsers[role].post(_delete_url(label, row.pk), {"post": "yes"})
        if _fingerprint(row) != before:
            problems.append(f"{role}: the delete view deleted something")
        if role != "staff":
            if not _to_admin_login(response):
                problems.append(f"{role}: {response.status_code}, not the admin's sign-in page")
        elif response.status_code != 403:
            problems.append(f"staff: delete view {response.status_code}, not 403")
    if label in NOBODY_DELETES:
        root = Client(raise_request_exception=False)
        root.force_login(request.user)
        before = _fingerprint(row)
        response = root.post(_delete_url(label, row.pk), {"post": "yes"})
        if response.status_code != 403 or _fingerprint(row) != before:
            problems.append(f"superuser: delete view {response.status_code}, or deleted")
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
        # Not offered: back to the list ("No action selected"), or the list itself (an admin
        # left with no action at all ignores the POST); 403 for a model staff may not view.
        elif response.status_code not in (200, 302, 403) or _to_admin_login(response):
            problems.append(f"staff: {response.status_code}, neither refused nor the list")
    assert not problems, "\n".join(problems)
