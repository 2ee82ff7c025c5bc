"""Organisations' writes: staff set organisations up (admins, join code, e-mail domain,
allowance), clients join, and listening claims and releases allowance for its bookings.

**Why a conditional UPDATE on counter rows, not a row lock.** A claim takes one session from
two counters: the member's own for the quarter (`MemberQuarter`) and the organisation's pool
(`PoolQuarter`). Each is taken by one statement,
`UPDATE … SET used = used + 1 WHERE … AND used < cap`, which answers 1 row (taken) or 0 (used
up). Under READ COMMITTED, a second transaction updating the same row waits for the first,
then re-checks `used < cap` against the committed row, so two members racing for the last
pooled session, or one member in two tabs racing for their last own session, end with exactly
one taker; no read-then-write window exists to lose. A `SELECT … FOR UPDATE` of the allowance
would serialise every booking of the organisation for the whole booking transaction (the
slot checks included); the counter rows are held only from the UPDATE to the commit. The
CHECK constraints `used <= cap` are the backstop: should any future code write the counters
another way, the database still refuses an oversold quarter. Locks are always taken member
row first, then pool row, so two claims cannot deadlock each other.

The counter rows of a quarter are created on first use (`INSERT … ON CONFLICT DO NOTHING`:
a concurrent creator waits for the first and then finds the row) with the allowance's caps of
that moment; `allowance_set` moves the caps of the current and later quarters, never below
what is already used."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import Conflict
from core.sessions import SESSION_LENGTHS, SessionMode
from organisations import tasks
from organisations.models import (
    Allowance,
    AllowanceClaim,
    EmailVerification,
    MemberQuarter,
    Membership,
    Organisation,
    OrganisationAdmin,
    PoolQuarter,
    Refusal,
)
from organisations.selectors import allowance_of, quarter_start

# A client cancelling more than this long before the start gets the session back.
RELEASE_NOTICE = dt.timedelta(hours=2)
EMAIL_LINK_SALT = "organisations.email-verification"
EMAIL_LINK_MAX_AGE = dt.timedelta(days=3)
# Links one client may have sent in a day: enough for typos, too few to spam an address.
EMAIL_LINKS_PER_DAY = 5
# The one answer to a request for a link, whether or not one was sent (API and page).
EMAIL_SENT = gettext_lazy(
    "If an organisation on Pianke uses this address's domain, a link to confirm it is on its "
    "way. Open it within three days."
)
_CODE = re.compile(r"^[A-Z0-9-]{4,32}$")
_DOMAIN = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}$")


def join_code_normalise(code: str) -> str:
    """A join code as stored: upper-case, without spaces."""
    return "".join((code or "").split()).upper()


# --- staff: organisations, admins, allowances ---------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    name: str,
    kind: str,
    join_code: str | None = None,
    email_domain: str | None = None,
) -> Organisation:
    """A new organisation (staff). At least one way to join is needed: a join code (4–32
    letters, digits or dashes) or an e-mail domain. Field problems raise ValidationError; a
    name, code or domain already in use is a 409."""
    name = (name or "").strip()
    code = join_code_normalise(join_code or "") or None
    domain = (email_domain or "").strip().lower().lstrip("@") or None
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the organisation a name.")]
    if kind not in Organisation.Kind.values:
        errors["kind"] = [_("Choose employer or school.")]
    if code is not None and not _CODE.match(code):
        errors["join_code"] = [_("A join code is 4 to 32 letters, digits or dashes.")]
    if domain is not None and not _DOMAIN.match(domain):
        errors["email_domain"] = [_("Give a domain such as example.com.")]
    if code is None and domain is None and "join_code" not in errors:
        errors["join_code"] = [_("Give a join code or an e-mail domain (or both).")]
    if errors:
        raise ValidationError(errors)
    organisation = Organisation(name=name, kind=kind, join_code=code, email_domain=domain)
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise Conflict(
            _("Another organisation already has this name, join code or e-mail domain."),
            code="organisation_taken",
        ) from None
    return organisation


@transaction.atomic
def organisation_admin_add(*, organisation: Organisation, user: User) -> OrganisationAdmin:
    """Make `user` (any active account; usually an ordinary client) the admin of
    `organisation`. A user administers one organisation: a second is a 409."""
    if not user.is_active:
        raise ValidationError({"user": [_("This account is not active.")]})
    existing = OrganisationAdmin.objects.filter(user=user).first()
    if existing is not None:
        if existing.organisation_id == organisation.pk:
            return existing
        raise Conflict(_("This user already administers an organisation."), code="admin_taken")
    return OrganisationAdmin.objects.create(organisation=organisation, user=user)


def _allowance_errors(
    sessions_per_member: int, pool_per_quarter: int, durations: list, modes: list
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if sessions_per_member is None or sessions_per_member < 0:
        errors["sessions_per_member"] = [_("Give a number of sessions, 0 or more.")]
    if pool_per_quarter is None or pool_per_quarter < 0:
        errors["pool_per_quarter"] = [_("Give a number of sessions, 0 or more.")]
    if not durations or not set(durations) <= set(SESSION_LENGTHS):
        errors["durations"] = [_("Choose 15 and/or 30 minutes.")]
    if not modes or not set(modes) <= set(SessionMode.values):
        errors["modes"] = [_("Choose at least one kind of session.")]
    return errors


@transaction.atomic
def allowance_set(
    *,
    organisation: Organisation,
    sessions_per_member: int,
    pool_per_quarter: int,
    durations: list[int],
    modes: list[str],
    is_active: bool = True,
    now: dt.datetime | None = None,
) -> Allowance:
    """Create or change the organisation's allowance (staff). The caps of the current and
    later quarters' counters move with it, but never below what is already used: a lower cap
    stops new claims and takes no session back."""
    errors = _allowance_errors(sessions_per_member, pool_per_quarter, durations, modes)
    if errors:
        raise ValidationError(errors)
    allowance, _created = Allowance.objects.update_or_create(
        organisation=organisation,
        defaults={
            "sessions_per_member": sessions_per_member,
            "pool_per_quarter": pool_per_quarter,
            "durations": sorted(set(durations)),
            "modes": [m for m in SessionMode.values if m in set(modes)],
            "is_active": is_active,
        },
    )
    current = quarter_start(now or timezone.now())
    PoolQuarter.objects.filter(allowance=allowance, quarter__gte=current).update(
        cap=Greatest(pool_per_quarter, F("used"))
    )
    MemberQuarter.objects.filter(allowance=allowance, quarter__gte=current).update(
        cap=Greatest(sessions_per_member, F("used"))
    )
    return allowance


# --- clients: joining ---------------------------------------------------------------------------


def _client_only(user: User) -> None:
    if not user.is_client:
        raise PermissionDenied


def _join(*, user: User, organisation: Organisation, via: str) -> Membership:
    if Membership.objects.filter(user=user).exists():
        raise _already_member()
    try:
        with transaction.atomic():
            return Membership.objects.create(user=user, organisation=organisation, via=via)
    except IntegrityError:  # a second tab joined meanwhile
        raise _already_member() from None


def _already_member() -> Conflict:
    return Conflict(_("You are already a member of an organisation."), code="already_member")


@transaction.atomic
def organisation_join(*, user: User, code: str) -> Membership:
    """A client joins the organisation whose join code this is. Only clients (else
    PermissionDenied); a blank code is a 400 naming `code`, and so is a code that matches no
    active organisation (unknown and inactive read alike, so the answer tells nothing about
    which codes exist); already a member of any organisation is a 409."""
    _client_only(user)
    normalised = join_code_normalise(code)
    if not normalised:
        raise ValidationError({"code": [_("Enter your organisation's join code.")]})
    organisation = Organisation.objects.filter(join_code=normalised, is_active=True).first()
    if organisation is None:
        raise ValidationError({"code": [_("This code does not match any organisation.")]})
    return _join(user=user, organisation=organisation, via=Membership.Via.CODE)


def email_link_token(verification: EmailVerification) -> str:
    return signing.dumps(verification.pk, salt=EMAIL_LINK_SALT)


@transaction.atomic
def organisation_email_verify_start(*, user: User, email: str) -> None:
    """A client gives an address at their organisation's domain; if an active organisation has
    that domain, a link to confirm it is e-mailed there (after commit). The answer is the same
    whether or not one has it, so it cannot be used to learn which domains are sponsored.
    A malformed address is a 400 naming `email`; already a member is a 409; more than
    EMAIL_LINKS_PER_DAY links a day is a 409 too."""
    _client_only(user)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid e-mail address.")]}) from None
    if Membership.objects.filter(user=user).exists():
        raise _already_member()
    now = timezone.now()
    recent = EmailVerification.objects.filter(user=user, created_at__gt=now - dt.timedelta(days=1))
    if recent.count() >= EMAIL_LINKS_PER_DAY:
        raise Conflict(
            _("Too many links were sent today. Try again tomorrow."), code="too_many_links"
        )
    domain = email.rsplit("@", 1)[1].lower()
    organisation = Organisation.objects.filter(email_domain=domain, is_active=True).first()
    if organisation is None:
        return
    verification = EmailVerification.objects.create(
        organisation=organisation, user=user, email=email
    )
    tasks.organisation_email_link_send.delay_on_commit(verification.pk)


@transaction.atomic
def organisation_email_confirm(*, user: User, token: str) -> Membership:
    """The client opened the link: they join the organisation. A token that is malformed,
    expired, already used or made for another user is a 400 naming `token` (the same answer
    for all); already a member is a 409."""
    _client_only(user)
    invalid = ValidationError({"token": [_("This link is not valid any more. Ask for a new one.")]})
    try:
        verification_id = signing.loads(
            token or "", salt=EMAIL_LINK_SALT, max_age=EMAIL_LINK_MAX_AGE
        )
    except signing.BadSignature:
        raise invalid from None
    verification = (
        EmailVerification.objects.select_for_update()
        .filter(pk=verification_id, user=user, confirmed_at__isnull=True)
        .first()
        if isinstance(verification_id, int)
        else None
    )
    if verification is None:
        raise invalid
    membership = _join(user=user, organisation=verification.organisation, via=Membership.Via.EMAIL)
    verification.confirmed_at = timezone.now()
    verification.email = ""  # nothing needs the address any more
    verification.save(update_fields=["confirmed_at", "email"])
    return membership


# --- listening's calls: claim and release ---------------------------------------------------------


@dataclass(frozen=True)
class ClaimOutcome:
    """`claim` when the allowance pays; otherwise None, with `refusal` saying why (empty when
    the client is no member at all: nothing to tell them)."""

    claim: AllowanceClaim | None
    refusal: str = ""


class _Refused(Exception):
    def __init__(self, refusal: str):
        self.refusal = refusal


def _take(model, *, cap: int, **key) -> bool:
    """Take one session from the counter row `key` (created with `cap` if missing): True if
    taken, False if it is used up. See the module docstring."""
    model.objects.bulk_create([model(cap=cap, **key)], ignore_conflicts=True)
    return bool(model.objects.filter(used__lt=F("cap"), **key).update(used=F("used") + 1))


@transaction.atomic
def allowance_claim(
    *, client: User, duration_minutes: int, mode: str, at: dt.datetime
) -> ClaimOutcome:
    """Take one session of the client's organisation allowance for a session of this length
    and mode starting at `at` (its quarter is the one that pays). Precondition: call inside
    the booking's transaction, so a booking that then fails returns the session with its
    rollback. Never raises for a client who cannot be paid for: the outcome says why, and the
    booking goes ahead at the client's own cost."""
    membership = Membership.objects.select_related("organisation").filter(user_id=client.pk).first()
    if membership is None:
        return ClaimOutcome(None)
    organisation = membership.organisation
    allowance = allowance_of(organisation)
    if allowance is None or not allowance.is_active or not organisation.is_active:
        return ClaimOutcome(None, Refusal.INACTIVE)
    if duration_minutes not in allowance.durations:
        return ClaimOutcome(None, Refusal.DURATION)
    if mode not in allowance.modes:
        return ClaimOutcome(None, Refusal.MODE)
    quarter = quarter_start(at)
    try:
        # A savepoint: a member counter taken before the pool turns out to be used up is
        # given back by rolling it back, not by a second UPDATE.
        with transaction.atomic():
            if not _take(
                MemberQuarter,
                cap=allowance.sessions_per_member,
                allowance=allowance,
                user_id=client.pk,
                quarter=quarter,
            ):
                raise _Refused(Refusal.MEMBER_USED_UP)
            if not _take(
                PoolQuarter, cap=allowance.pool_per_quarter, allowance=allowance, quarter=quarter
            ):
                raise _Refused(Refusal.POOL_USED_UP)
            claim = AllowanceClaim.objects.create(
                organisation=organisation,
                allowance=allowance,
                client_id=client.pk,
                quarter=quarter,
                duration_minutes=duration_minutes,
                mode=mode,
            )
    except _Refused as refused:
        return ClaimOutcome(None, refused.refusal)
    return ClaimOutcome(claim)


def allowance_release_due(
    *, cancelled_by_client: bool, start: dt.datetime, at: dt.datetime
) -> bool:
    """Whether a cancellation gives the session back: a client's more than RELEASE_NOTICE
    before the start, or anyone else's (the counselor, staff) at any time."""
    return not cancelled_by_client or start - at > RELEASE_NOTICE


@transaction.atomic
def allowance_release(*, claim_id: int) -> bool:
    """Give a claimed session back to the member's and the pool's counters of its quarter.
    Idempotent: a claim already released is left alone (False). Precondition: the caller
    decided the release is due (allowance_release_due, or a no-show of the counselor)."""
    released = AllowanceClaim.objects.filter(pk=claim_id, released_at__isnull=True).update(
        released_at=timezone.now()
    )
    if not released:
        if not AllowanceClaim.objects.filter(pk=claim_id).exists():
            raise AllowanceClaim.DoesNotExist(f"no allowance claim {claim_id}")
        return False
    claim = AllowanceClaim.objects.get(pk=claim_id)
    key = {"allowance_id": claim.allowance_id, "quarter": claim.quarter}
    MemberQuarter.objects.filter(user_id=claim.client_id, used__gt=0, **key).update(
        used=F("used") - 1
    )
    PoolQuarter.objects.filter(used__gt=0, **key).update(used=F("used") - 1)
    return True


def allowance_move_check(*, claim_id: int, duration_minutes: int, at: dt.datetime) -> None:
    """A sponsored session being moved to `at` (and `duration_minutes`) must stay in the
    quarter its claim counted in (409 `allowance_quarter`: the client cancels and books the
    new time, which the new quarter pays for if it can) and at a length the allowance covers
    (400 on `duration_minutes`). Call in the reschedule's transaction."""
    claim = AllowanceClaim.objects.select_related("allowance").get(pk=claim_id)
    if quarter_start(at) != claim.quarter:
        raise Conflict(
            _(
                "A session paid by your organisation can only be moved within its quarter. "
                "Cancel it and book the new time instead."
            ),
            code="allowance_quarter",
        )
    if duration_minutes not in claim.allowance.durations:
        raise ValidationError(
            {"duration_minutes": [_("Your organisation's allowance does not cover this length.")]}
        )


# --- the account's own data: erasure and export ---------------------------------------------------


def organisation_data_erase(*, user: User) -> None:
    """Organisations' part of deleting an account: the membership, any admin role and the
    pending e-mail verifications go. Claims stay (they are the sessions paid for, and name
    only the anonymised account). Call inside the deletion's transaction."""
    Membership.objects.filter(user=user).delete()
    OrganisationAdmin.objects.filter(user=user).delete()
    EmailVerification.objects.filter(user=user).delete()


def organisation_data_export(*, user: User) -> dict:
    """The user's organisation, as they may download it: which one, how and when they joined,
    and whether they administer one."""
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    admin = OrganisationAdmin.objects.select_related("organisation").filter(user=user).first()
    return {
        "organisation_membership": {
            "organisation": membership.organisation.name,
            "via": membership.via,
            "joined_at": membership.joined_at.isoformat(),
        }
        if membership
        else None,
        "organisation_admin_of": admin.organisation.name if admin else None,
    }
