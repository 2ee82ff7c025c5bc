"""Consent to process health information, and the intake.

The consent text is data (intake/consent.py). An intake counts only under a standing consent to
the current version; withdrawing the consent voids it, so bookings stop until the client agrees
again and fills in a new intake."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentRecord, Intake, User
from core.exceptions import Conflict
from ethics.detector import crisis_detect
from ethics.models import CrisisAlert
from ethics.services import (
    crisis_hotlines_for,
    crisis_signal_record,
    longer_term_resources_for,
    risk_text_record,
)
from intake.consent import CURRENT_VERSION, LONGER_TERM_CARE_MESSAGE, pick_language

PHQ4_BANDS = (
    (2, "normal"),
    (5, "mild"),
    (8, "moderate"),
    (12, "severe"),
)  # published PHQ-4 cut-offs


def consent_current_for(user: User) -> ConsentRecord | None:
    """The user's standing agreement to the current consent version, or None."""
    return ConsentRecord.objects.filter(
        user=user, version=CURRENT_VERSION, withdrawn_at__isnull=True
    ).first()


def consent_ever_withdrawn(user: User) -> bool:
    """Whether the user has withdrawn a consent (any version) at some point."""
    return ConsentRecord.objects.filter(user=user, withdrawn_at__isnull=False).exists()


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
    *,
    user: User,
    consent_version: str,
    topic: str,
    distress: int,
    phq4: list[int],
    item9: int,
    agree_to_consent: bool = False,
    consent_language: str | None = None,
) -> Intake:
    """Store a client's intake and score it. Bad answers raise ValidationError (400), a
    `consent_version` other than the current one too. With `agree_to_consent` (the API, whose
    intake carries the version the client was shown), a client with no standing agreement has
    it recorded here, as `consent_agree` records it (the same row, time and language), unless
    they once withdrew: agreeing again after a withdrawal is its own deliberate step (POST
    consent/). Otherwise, without a standing consent, Conflict `consent_required` (409), whose
    message names that call. Item 9 above 0, or a high-risk topic, records a crisis alert in
    this transaction."""
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
    if consent is None and agree_to_consent and not consent_ever_withdrawn(user):
        consent, _created = consent_agree(
            user=user, version=consent_version, language=consent_language
        )
    if consent is None:
        raise Conflict(
            _(
                "Please read and agree to the consent for your health information first: "
                'POST /api/v1/consent/ with {"version": "%(version)s"} (GET /api/v1/consent/ '
                "shows its text), then send the intake again."
            )
            % {"version": CURRENT_VERSION},
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
    risk_text_record(client=user, source=CrisisAlert.Source.INTAKE, detection=detection)
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


def intake_outcome(*, intake: Intake, language: str | None = None) -> dict:
    """What the client sees after the intake: the score, band and risk; for a severe band, a
    kind word on longer-term care with resources (never a block); for a high risk, hotlines."""
    out = {"phq4_score": intake.phq4_score, "band": intake.band, "risk": intake.risk}
    if intake.band == "severe":
        out["longer_term_care"] = {
            "message": LONGER_TERM_CARE_MESSAGE[pick_language(language or intake.user.language)],
            "resources": longer_term_resources_for(user=intake.user),
        }
    if intake.risk == "high":
        out["crisis_resources"] = {"hotlines": crisis_hotlines_for(user=intake.user)}
    return out


def user_health_information_erase(*, user: User) -> None:
    """Intake's part of deleting an account: every intake and consent record goes. Call inside
    the deletion's transaction."""
    Intake.objects.filter(user=user).delete()
    ConsentRecord.objects.filter(user=user).delete()
