"""Referrals, complaints and the staff review of ethics flags.

Referrals: a counselor refers the client of one of their sessions to a directory resource;
the client accepts or declines; an accepted referral gets a check-in seven days later
(an eta task scheduled after commit, with `referrals_follow_up_due` as the beat safety net;
each check-in claims the row through `follow_up_sent_at`, so it is sent once).

Complaints: a client's complaint about their own session opens a `complaint` flag and is
screened for crisis language in the same transaction.

Review: staff take flags (assign), annotate them, read the flagged session's content (every
read is written to the audit log) and resolve them with an action. Counselors see only the
outcome of resolved flags about them; clients never see flags.

Suspension: a `suspend-counselor` resolution unlists the counselor, ends their talk-now duty
and cancels their future sessions through `booking_cancel`, like any cancellation.

Concern reports: either participant reports a dual relationship or a boundary problem.

The models live in `ethics` (no migration moved them); this module sits above the domains it
acts on (bookings, matching), so it calls their services instead of writing their rows."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import Conflict
from counselors.models import CounselorProfile
from ethics.models import AuditLog, Complaint, CrisisAlert, EthicsFlag, FlagNote, Referral, Resource
from ethics.services import flag_raise, text_screen
from groups.services import counselor_groups_cancel
from listening.models import Booking, SessionMessage
from listening.selectors import message_frame
from listening.services import booking_cancel
from matching.services import presence_end
from oversight import tasks

logger = logging.getLogger(__name__)

FOLLOW_UP_AFTER = dt.timedelta(days=7)


class ResolutionAction:
    NONE = "none"
    WARN = "warn"
    SUSPEND_COUNSELOR = "suspend-counselor"
    HOLD_CONTENT = "hold-content"
    CLOSE = "close"
    ALL = (NONE, WARN, SUSPEND_COUNSELOR, HOLD_CONTENT, CLOSE)


def _require_staff(user: User) -> None:
    if not user.is_staff_member:
        raise PermissionDenied


# --- referrals -------------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    counselor: User,
    booking_id: int,
    resource_id: int,
    reason: str,
    urgency: str = Referral.Urgency.ROUTINE,
) -> Referral:
    """The booking's counselor refers its client to an active directory resource."""
    if not counselor.is_counselor:
        raise PermissionDenied
    errors = {}
    if urgency not in Referral.Urgency.values:
        errors["urgency"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(Referral.Urgency.values)}
        ]
    if not reason.strip():
        errors["reason"] = [_("Say why you refer the client.")]
    resource = Resource.objects.filter(pk=resource_id, is_active=True).first()
    if resource is None:
        errors["resource"] = [_("No such resource in the directory.")]
    if errors:
        raise ValidationError(errors)
    # 404 unless it is the caller's own session; the row lock serialises referrals on it.
    booking = Booking.objects.select_for_update().get(pk=booking_id, counselor_id=counselor.pk)
    if booking.status == Booking.Status.CANCELLED:
        raise Conflict(_("A cancelled session cannot carry a referral."), code="booking_cancelled")
    if (
        Referral.objects.filter(booking=booking, resource=resource)
        .exclude(status=Referral.Status.DECLINED)
        .exists()
    ):
        raise Conflict(
            _("This client was already referred to this resource."), code="duplicate_referral"
        )
    return Referral.objects.create(
        booking=booking,
        counselor_id=booking.counselor_id,
        client_id=booking.client_id,
        resource=resource,
        reason=reason.strip(),
        urgency=urgency,
    )


def referral_list_for_user(*, user: User) -> QuerySet[Referral]:
    """A counselor's referrals made, a client's received; nobody else has any."""
    qs = Referral.objects.select_related("resource").order_by("-created_at", "-pk")
    if user.is_counselor:
        return qs.filter(counselor_id=user.pk)
    if user.is_client:
        return qs.filter(client=user)
    return qs.none()


def _referral_for_client(*, client: User, referral_id: int) -> Referral:
    if not client.is_client:
        raise PermissionDenied
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("resource")
        .get(pk=referral_id, client=client)
    )


def _schedule_follow_up(referral_id: int, eta: dt.datetime) -> None:
    try:
        tasks.referral_follow_up.apply_async((referral_id,), eta=eta)
    except Exception:  # the beat sweep (referrals_follow_up_due) sends it anyway
        logger.exception("referral %s: could not queue its follow-up; the sweep will", referral_id)


@transaction.atomic
def referral_accept(*, client: User, referral_id: int) -> Referral:
    referral = _referral_for_client(client=client, referral_id=referral_id)
    if referral.status != Referral.Status.PENDING:
        raise Conflict(_("This referral was already answered."), code="already_answered")
    now = timezone.now()
    referral.status, referral.responded_at = Referral.Status.ACCEPTED, now
    referral.follow_up_due_at = now + FOLLOW_UP_AFTER
    referral.save(update_fields=["status", "responded_at", "follow_up_due_at"])
    due = referral.follow_up_due_at
    transaction.on_commit(lambda: _schedule_follow_up(referral.pk, due))
    return referral


@transaction.atomic
def referral_decline(*, client: User, referral_id: int) -> Referral:
    referral = _referral_for_client(client=client, referral_id=referral_id)
    if referral.status != Referral.Status.PENDING:
        raise Conflict(_("This referral was already answered."), code="already_answered")
    referral.status, referral.responded_at = Referral.Status.DECLINED, timezone.now()
    referral.save(update_fields=["status", "responded_at"])
    return referral


def referral_follow_up(*, referral_id: int) -> bool:
    """The check-in for an accepted referral once it is due: an e-mail to the client when
    they gave an address, and the in-app record (`follow_up_sent_at`, shown in their
    referrals). Claimed under the row lock, so a repeated task or sweep sends nothing."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("client", "resource")
            .filter(
                pk=referral_id,
                status=Referral.Status.ACCEPTED,
                follow_up_sent_at__isnull=True,
                follow_up_due_at__lte=timezone.now(),
            )
            .first()
        )
        if referral is None:
            return False
        referral.follow_up_sent_at = timezone.now()
        referral.save(update_fields=["follow_up_sent_at"])
        client = referral.client
        if client.email:
            # Sent inside the transaction: if it fails, the claim is rolled back and the sweep retries.
            with translation.override(client.language):
                send_mail(
                    subject=_("How is it going with %(name)s?") % {"name": referral.resource.name},
                    message=_(
                        "A week ago you accepted a referral to %(name)s (%(contact)s). How did it go? "
                        "You can book another session on Pianke any time."
                    )
                    % {"name": referral.resource.name, "contact": referral.resource.contact or "-"},
                    from_email=None,
                    recipient_list=[client.email],
                )
    return True


def referrals_follow_up_due(*, now: dt.datetime | None = None) -> int:
    """Send every check-in that is due (the safety net behind the eta tasks)."""
    now = now or timezone.now()
    ids = list(
        Referral.objects.filter(
            status=Referral.Status.ACCEPTED,
            follow_up_sent_at__isnull=True,
            follow_up_due_at__lte=now,
        ).values_list("pk", flat=True)
    )
    return sum(referral_follow_up(referral_id=pk) for pk in ids)


# --- complaints ------------------------------------------------------------------------------


@transaction.atomic
def complaint_create(*, client: User, booking_id: int, text: str) -> Complaint:
    """A client complains about one of their own sessions: a `complaint` flag for review, and
    a crisis alert in the same transaction when the text carries a high-risk signal."""
    if not client.is_client:
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": [_("Tell us what happened.")]})
    booking = Booking.objects.select_for_update().get(
        pk=booking_id, client=client
    )  # 404 unless theirs
    flag = flag_raise(
        kind=EthicsFlag.Kind.COMPLAINT,
        booking=booking,
        counselor_id=booking.counselor_id,
        summary=f"Complaint from the client about booking {booking.pk}",
    )
    alert = text_screen(
        text=text, client=client, booking=booking, source=CrisisAlert.Source.COMPLAINT
    )
    return Complaint.objects.create(
        flag=flag, booking=booking, client=client, text=text.strip(), crisis_alert=alert
    )


# --- the flag review (staff) -----------------------------------------------------------------


def flag_queue() -> QuerySet[EthicsFlag]:
    """The review queue, newest first (filter by kind and status)."""
    return EthicsFlag.objects.order_by("-created_at", "-pk")


def flag_get(*, user: User, flag_id: int) -> EthicsFlag:
    _require_staff(user)
    return (
        EthicsFlag.objects.select_related("complaint")
        .prefetch_related("notes", "audit_log")
        .get(pk=flag_id)
    )


def flag_list_for_counselor(*, user: User) -> QuerySet[EthicsFlag]:
    """The outcome of the resolved flags about a counselor (never notes or complainants' text)."""
    if not user.is_counselor:
        raise PermissionDenied
    return (
        EthicsFlag.objects.filter(counselor_id=user.pk, status=EthicsFlag.Status.RESOLVED)
        .only("pk", "kind", "resolved_at", "resolution")
        .order_by("-resolved_at", "-pk")
    )


def _audit(
    *, actor: User, action: str, flag: EthicsFlag, detail: str, booking_id: int | None = None
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor, action=action, flag=flag, booking_id=booking_id, detail=detail
    )


@transaction.atomic
def flag_assign(*, user: User, flag_id: int) -> EthicsFlag:
    """Take an open flag: it goes in review, assigned to the caller."""
    _require_staff(user)
    flag = EthicsFlag.objects.select_for_update().get(pk=flag_id)
    if flag.status != EthicsFlag.Status.OPEN:
        raise Conflict(_("Only an open flag can be taken."), code="not_open")
    flag.status, flag.assigned_to = EthicsFlag.Status.IN_REVIEW, user
    flag.save(update_fields=["status", "assigned_to"])
    _audit(actor=user, action=AuditLog.Action.ASSIGN, flag=flag, detail=f"took flag {flag.pk}")
    return flag


@transaction.atomic
def flag_note_add(*, user: User, flag_id: int, text: str) -> FlagNote:
    _require_staff(user)
    if not text.strip():
        raise ValidationError({"text": [_("A note cannot be empty.")]})
    flag = EthicsFlag.objects.select_for_update().get(pk=flag_id)
    note = FlagNote.objects.create(flag=flag, author=user, text=text.strip())
    _audit(
        actor=user,
        action=AuditLog.Action.NOTE,
        flag=flag,
        detail=f"added note {note.pk} to flag {flag.pk}",
    )
    return note


@transaction.atomic
def flag_content_read(*, user: User, flag_id: int) -> tuple[EthicsFlag, Booking, list[dict]]:
    """The flagged session's messages, oldest first, for the reviewer; every read is audited."""
    _require_staff(user)
    flag = EthicsFlag.objects.get(pk=flag_id)
    if flag.booking_id is None:
        raise Booking.DoesNotExist("this flag names no session")
    booking = Booking.objects.get(pk=flag.booking_id)
    messages = [
        message_frame(m) for m in SessionMessage.objects.filter(booking=booking).order_by("seq")
    ]
    _audit(
        actor=user,
        action=AuditLog.Action.READ_CONTENT,
        flag=flag,
        booking_id=booking.pk,
        detail=f"read content of booking {booking.pk} for flag {flag.pk}",
    )
    return flag, booking, messages


def counselor_suspend(*, profile: CounselorProfile, now: dt.datetime, reason: str) -> list[int]:
    """Unlist the counselor, end their talk-now duty (pending offers go back) and cancel their
    future confirmed sessions; each client is told (the counselor cancels, so the notice goes
    to the client). Returns the cancelled bookings' ids. Call inside the resolving transaction."""
    CounselorProfile.objects.filter(pk=profile.pk).update(is_active=False)
    presence_end(counselor_id=profile.pk)  # talk-now offers stop at once
    future = Booking.objects.filter(
        counselor=profile, status=Booking.Status.CONFIRMED, start__gt=now
    ).order_by("start")
    cancelled = list(future.values_list("pk", flat=True))
    for booking_id in cancelled:
        booking_cancel(booking_id=booking_id, user=profile.user, reason=reason)
    counselor_groups_cancel(counselor_user=profile.user, now=now)
    return cancelled


@transaction.atomic
def flag_resolve(
    *, user: User, flag_id: int, resolution: str, action: str = ResolutionAction.NONE
) -> EthicsFlag:
    """Resolve an open or in-review flag and carry out its action:
    `hold-content` keeps the session's content past the retention purge, `suspend-counselor`
    unlists the counselor and cancels their future sessions, the others only record."""
    _require_staff(user)
    errors = {}
    if not resolution.strip():
        errors["resolution"] = [_("Say how this was resolved.")]
    if action not in ResolutionAction.ALL:
        errors["action"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(ResolutionAction.ALL)}
        ]
    if errors:
        raise ValidationError(errors)
    flag = EthicsFlag.objects.select_for_update().get(pk=flag_id)
    if flag.status == EthicsFlag.Status.RESOLVED:
        raise Conflict(_("This flag is already resolved."), code="resolved")
    if action == ResolutionAction.HOLD_CONTENT and flag.booking_id is None:
        raise ValidationError(
            {"action": [_("This flag names no session whose content could be held.")]}
        )
    if action == ResolutionAction.SUSPEND_COUNSELOR and flag.counselor_id is None:
        raise ValidationError({"action": [_("This flag names no counselor.")]})
    now = timezone.now()
    detail = f"resolved flag {flag.pk} ({action})"
    if action == ResolutionAction.HOLD_CONTENT:
        Booking.objects.filter(pk=flag.booking_id).update(ethics_hold=True)
        detail += f": content of booking {flag.booking_id} held"
    elif action == ResolutionAction.SUSPEND_COUNSELOR:
        profile = CounselorProfile.objects.select_for_update(no_key=True).get(pk=flag.counselor_id)
        cancelled = counselor_suspend(profile=profile, now=now, reason="counselor suspended")
        detail += (
            f": counselor {profile.pk} suspended, {len(cancelled)} future session(s) cancelled"
        )
    flag.status, flag.resolution, flag.action = (
        EthicsFlag.Status.RESOLVED,
        resolution.strip(),
        action,
    )
    flag.resolved_at, flag.resolved_by = now, user
    if flag.assigned_to_id is None:
        flag.assigned_to = user
    flag.save(
        update_fields=[
            "status",
            "resolution",
            "action",
            "resolved_at",
            "resolved_by",
            "assigned_to",
        ]
    )
    _audit(actor=user, action=AuditLog.Action.RESOLVE, flag=flag, detail=detail[:500])
    return flag


REPORTABLE = {EthicsFlag.Kind.DUAL_RELATIONSHIP, EthicsFlag.Kind.BOUNDARY}


@transaction.atomic
def concern_report(*, user: User, booking_id: int, kind: str, text: str) -> EthicsFlag:
    """Either participant reports a dual relationship (e.g. the counselor knows the client
    outside the platform; counselors declare it) or a boundary problem: a flag for staff."""
    if kind not in REPORTABLE:
        raise ValidationError({"kind": [_("Choose dual-relationship or boundary.")]})
    if not text.strip():
        raise ValidationError({"text": [_("Say what happened.")]})
    booking = Booking.objects.select_for_update().get(
        Q(client=user) | Q(counselor_id=user.pk), pk=booking_id
    )
    role = booking.role_of(user)
    return flag_raise(
        kind=kind,
        booking=booking,
        counselor_id=booking.counselor_id,
        summary=f"Reported by the {role}: {text.strip()}",
    )
