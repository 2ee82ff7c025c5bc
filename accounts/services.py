from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.consent import CURRENT_VERSION, LONGER_TERM_CARE_MESSAGE, pick_language
from accounts.models import ConsentRecord, Intake, User
from core.exceptions import Conflict
from core.realtime import group_send, user_group


def _set_validated_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)


@transaction.atomic
def user_register(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    timezone: str | None = None,
    language: str | None = None,
) -> User:
    """Create a client or counselor account (staff and supervisors are made by admins).

    A counselor gets an unverified, unlisted profile in the same transaction."""
    if role not in (User.Role.CLIENT, User.Role.COUNSELOR):
        raise ValidationError({"role": _("Choose client or counselor.")})
    user = User(username=username, email=email, role=role)
    if timezone:
        user.timezone = timezone
    if language:
        user.language = language
    _set_validated_password(user, password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # two concurrent sign-ups with one name
        raise ValidationError({"username": _("A user with that username already exists.")}) from exc
    if role == User.Role.COUNSELOR:
        from counselors.services import counselor_profile_create

        counselor_profile_create(user=user)
    return user


def user_token_get(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


@transaction.atomic
def user_update(*, user: User, timezone: str | None = None, language: str | None = None) -> User:
    if timezone is not None:
        user.timezone = timezone
    if language is not None:
        user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["timezone", "language"])
    return user


STAFF_GROUP = "Pianke staff"
STAFF_APPS = ["accounts", "counselors", "listening", "ethics", "authtoken"]


def staff_group_get() -> Group:
    """The admin group staff belong to: every permission on Pianke's own models, none on
    Django's internals (a staff member is not a superuser)."""
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
    return group


@transaction.atomic
def staff_create(
    *, username: str, password: str, email: str = "", role: str = User.Role.STAFF
) -> User:
    """Staff (who also use the Django admin) and on-call supervisors (who work in the product's
    own pages); used by the `create_staff` command and the demo data."""
    if role not in (User.Role.STAFF, User.Role.SUPERVISOR):
        raise ValidationError({"role": _("Choose staff or supervisor.")})
    user = User(username=username, email=email, role=role, is_staff=role == User.Role.STAFF)
    _set_validated_password(user, password)
    user.full_clean(exclude=["password"])
    user.save()
    if role == User.Role.STAFF:
        user.groups.add(staff_group_get())
    return user


@transaction.atomic
def user_suspend(*, user_id: int) -> User:
    """Suspend an account: it can no longer sign in, its API tokens are revoked and its open
    WebSockets are closed (after commit) within moments."""
    user = User.objects.select_for_update().get(pk=user_id)
    user.is_active = False
    user.save(update_fields=["is_active"])
    Token.objects.filter(user=user).delete()
    transaction.on_commit(lambda: group_send(user_group(user_id), {"type": "account.closed"}))
    return user


# --- health-information consent and the intake ----------------------------------------------
# The consent text is data (accounts/consent.py). An intake counts only under a standing
# consent to the current version; withdrawing the consent voids it, so bookings stop until
# the client agrees again and fills in a new intake. Ethics is imported inside the functions
# (it depends on accounts, not the other way round).

PHQ4_BANDS = (
    (2, "normal"),
    (5, "mild"),
    (8, "moderate"),
    (12, "severe"),
)  # published PHQ-4 cut-offs


@transaction.atomic
def user_delete(*, user_id: int) -> None:
    """Delete an account at its owner's request. The row stays (bookings and alerts refer to
    it) but nothing identifying does: the name and e-mail are replaced, sign-in is impossible,
    tokens go, open sockets close. Future sessions are cancelled (the other side is told),
    session content of bookings not under an ethics hold is erased, and a counselor's profile
    is unlisted. Health information (consent, intake) is deleted."""
    from listening.models import Booking, SessionMessage, SessionNote
    from listening.services import booking_cancel
    from matching.models import MatchRequest
    from matching.services import match_request_cancel, presence_end

    user = User.objects.select_for_update().get(pk=user_id)
    for booking_id in Booking.objects.filter(
        Q(client=user) | Q(counselor_id=user.pk),
        status=Booking.Status.CONFIRMED,
        start__gt=dj_timezone.now(),
    ).values_list("pk", flat=True):
        booking_cancel(booking_id=booking_id, user=user, reason="account deleted")
    SessionMessage.objects.filter(
        Q(booking__client=user) | Q(booking__counselor_id=user.pk), booking__ethics_hold=False
    ).delete()
    SessionNote.objects.filter(
        Q(booking__client=user) | Q(booking__counselor_id=user.pk), booking__ethics_hold=False
    ).delete()
    open_requests = MatchRequest.objects.filter(client=user, status__in=MatchRequest.OPEN)
    for request_id in open_requests.values_list("pk", flat=True):
        match_request_cancel(client=user, request_id=request_id)
    MatchRequest.objects.filter(client=user).update(
        note_ciphertext=b""
    )  # the notes are health information
    Intake.objects.filter(user=user).delete()
    ConsentRecord.objects.filter(user=user).delete()
    if user.role == User.Role.COUNSELOR:
        from counselors.models import CounselorProfile

        CounselorProfile.objects.filter(pk=user.pk).update(is_active=False, bio="", display_name="")
        presence_end(counselor_id=user.pk)
    user.username = f"deleted-{user.pk}"
    user.email = user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = False
    user.save()
    Token.objects.filter(user=user).delete()
    transaction.on_commit(lambda: group_send(user_group(user_id), {"type": "account.closed"}))


def consent_current_for(user: User) -> ConsentRecord | None:
    """The user's standing agreement to the current consent version, or None."""
    return ConsentRecord.objects.filter(
        user=user, version=CURRENT_VERSION, withdrawn_at__isnull=True
    ).first()


def _lock_user(user: User) -> User:
    """Serialises a user's consent, withdrawal and intake (agreeing twice at once, or an intake
    racing a withdrawal)."""
    return User.objects.select_for_update().get(pk=user.pk)


def _require_client(user: User) -> None:
    if user.role != User.Role.CLIENT:
        raise PermissionDenied


@transaction.atomic
def consent_agree(
    *, user: User, version: str, language: str | None = None
) -> tuple[ConsentRecord, bool]:
    """Record the client's agreement to `version` (which must be the current one). Agreeing
    again while an agreement stands returns that one. Returns (record, created)."""

    _require_client(user)
    if version != CURRENT_VERSION:
        raise ValidationError(
            {
                "version": [
                    _("The current consent version is %(version)s; please read it again.")
                    % {"version": CURRENT_VERSION}
                ]
            }
        )
    _lock_user(user)
    existing = consent_current_for(user)
    if existing is not None:
        return existing, False
    record = ConsentRecord.objects.create(
        user=user,
        version=version,
        agreed_at=dj_timezone.now(),
        language=pick_language(language or user.language),
    )
    return record, True


@transaction.atomic
def consent_withdraw(*, user: User) -> int:
    """Withdraw every standing agreement: health information is no longer processed, the
    intake no longer counts, and bookings need a new consent and intake. Deleting the data
    is the account deletion's job. Returns how many agreements were withdrawn."""
    _require_client(user)
    _lock_user(user)
    return ConsentRecord.objects.filter(user=user, withdrawn_at__isnull=True).update(
        withdrawn_at=dj_timezone.now()
    )


def phq4_band(score: int) -> str:
    for upper, band in PHQ4_BANDS:
        if score <= upper:
            return band
    raise ValueError(f"PHQ-4 score out of range: {score}")


def _check_range(errors: dict, field: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = [
            _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
        ]


@transaction.atomic
def intake_submit(
    *, user: User, consent_version: str, topic: str, distress: int, phq4: list[int], item9: int
) -> Intake:
    """Store a client's intake and score it. Bad answers raise ValidationError (400); a
    client without a standing consent to the current version gets Conflict `consent_required`
    (409). Item 9 above 0, or a high-risk topic, records a crisis alert in this transaction."""
    from ethics.detector import crisis_detect
    from ethics.models import CrisisAlert
    from ethics.services import crisis_signal_record

    _require_client(user)
    topic = (topic or "").strip()
    errors: dict = {}
    if consent_version != CURRENT_VERSION:
        errors["consent_version"] = [
            _("The current consent version is %(version)s.") % {"version": CURRENT_VERSION}
        ]
    if not topic:
        errors["topic"] = [_("Say in a few words what you would like to talk about.")]
    elif len(topic) > 120:
        errors["topic"] = [_("Keep the topic to 120 characters.")]
    _check_range(errors, "distress", distress, 0, 10)
    if not isinstance(phq4, (list, tuple)) or len(phq4) != 4:
        errors["phq4"] = [_("Answer all four questions.")]
    elif any(isinstance(a, bool) or not isinstance(a, int) or not 0 <= a <= 3 for a in phq4):
        errors["phq4"] = [_("Each answer is a whole number from 0 to 3.")]
    _check_range(errors, "item9", item9, 0, 3)
    if errors:
        raise ValidationError(errors)

    _lock_user(user)
    consent = consent_current_for(user)
    if consent is None:
        raise Conflict(
            _("Please read and agree to the consent for your health information first."),
            code="consent_required",
        )
    score = sum(phq4)
    detection = crisis_detect(topic)
    risk = Intake.Risk.HIGH if item9 > 0 else detection.risk
    intake = Intake.objects.create(
        user=user,
        consent=consent,
        topic=topic,
        distress=distress,
        phq4_score=score,
        band=phq4_band(score),
        item9=item9,
        risk=risk,
        created_at=dj_timezone.now(),
        **dict(zip(Intake.PHQ4_FIELDS, phq4)),
    )
    if risk == Intake.Risk.HIGH:
        reasons = [f"PHQ-9 item 9 answered {item9}"] if item9 > 0 else []
        if detection.risk == "high":
            reasons += [f"intake topic: {reason}" for reason in detection.reasons]
        crisis_signal_record(client=user, source=CrisisAlert.Source.INTAKE, reasons=reasons)
    return intake


def intake_current_for(user: User) -> Intake | None:
    """The client's latest intake given under a standing consent to the current version, or None."""
    return (
        Intake.objects.filter(
            user=user, consent__version=CURRENT_VERSION, consent__withdrawn_at__isnull=True
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def intake_require(user: User) -> Intake:
    """The gate before a client's booking or match request: Conflict `intake_required` (409)
    unless they have a current intake."""
    intake = intake_current_for(user)
    if intake is None:
        raise Conflict(
            _(
                "Before your first session, please agree to the consent for your health information "
                "and answer the short intake (consent/ and intake/)."
            ),
            code="intake_required",
        )
    return intake


LONGER_TERM_KINDS = ("long-term-counseling", "hospital-psychiatry", "hotline")


def longer_term_resources_for(*, user: User) -> list[dict]:
    """Long-term counseling, hospital psychiatry and hotlines for the user's region (and
    worldwide), in that order, their language first."""
    from ethics.models import Resource
    from ethics.services import user_region

    region = user_region(user)
    language = "en" if user.language == "en" else "zh"
    resources = list(
        Resource.objects.filter(
            kind__in=LONGER_TERM_KINDS, is_active=True, region__in=[region, "global"]
        )
    )
    resources.sort(
        key=lambda r: (
            LONGER_TERM_KINDS.index(r.kind),
            r.region == "global",
            r.language != language,
            r.name,
        )
    )
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "name": r.name,
            "contact": r.contact,
            "hours": r.hours,
            "region": r.region,
            "language": r.language,
            "description": r.description,
        }
        for r in resources
    ]


def intake_outcome(*, intake: Intake, language: str | None = None) -> dict:
    """What the client sees after the intake: the score, band and risk; for a severe band, a
    kind word on longer-term care with resources (never a block); for a high risk, hotlines."""
    from ethics.services import crisis_hotlines_for

    out = {"phq4_score": intake.phq4_score, "band": intake.band, "risk": intake.risk}
    if intake.band == "severe":
        out["longer_term_care"] = {
            "message": LONGER_TERM_CARE_MESSAGE[pick_language(language or intake.user.language)],
            "resources": longer_term_resources_for(user=intake.user),
        }
    if intake.risk == "high":
        out["crisis_resources"] = {"hotlines": crisis_hotlines_for(user=intake.user)}
    return out
