"""The safety kernel's writes: screening text, raising ethics flags, and crisis alerts.

Every text a client or counselor writes (chat, async messages, feedback, complaints) goes
through `text_screen` inside the transaction that stores it; intakes and talk-now notes record
their signal with `crisis_signal_record` the same way. Flags for staff review are raised with
`flag_raise`, also inside the caller's transaction.

Crisis alerts: stored in the same transaction as the text that carried the signal (the
row is the outbox), then shown to the client, told to the counselor and the on-call
supervisors, and escalated until a person acknowledges it.

Delivery never depends on one task: `alert_notify` and `alert_escalate` are Celery tasks
scheduled after commit, and a beat sweeper (`alerts_sweep`) re-drives every open alert
whose step is due, so a broker outage or a killed worker delays an alert, never drops it.
Each step claims the alert row with `select_for_update(skip_locked=True)` and records
that it was done, so a redelivered task does not repeat it."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import Conflict
from core.realtime import (
    STAFF_GROUP,
    push,
    push_on_commit,
    room_event,
    room_push,
    staff_event,
    user_group,
)
from ethics import tasks
from ethics.contacts import off_platform_contact_detect
from ethics.detector import HIGH, crisis_detect
from ethics.models import CrisisAlert, EthicsFlag, Resource

logger = logging.getLogger(__name__)

LADDER = {1: dt.timedelta(minutes=2), 2: dt.timedelta(minutes=5)}
SLACK = dt.timedelta(seconds=2)

# A client's region for the hotline list, from their time zone (we ask for nothing more).
REGION_BY_ZONE = {
    "Asia/Hong_Kong": "HK",
    "Asia/Macau": "HK",
    "Asia/Taipei": "TW",
    "Europe/London": "GB",
}


def user_region(user: User) -> str:
    zone = user.timezone or ""
    if zone in REGION_BY_ZONE:
        return REGION_BY_ZONE[zone]
    if zone.startswith(("America/", "US/")):
        return "US"
    return "CN"


def resource_row(resource: Resource) -> dict:
    """What a client is shown of a directory entry (a hotline, a place for longer-term care)."""
    return {
        "name": resource.name,
        "contact": resource.contact,
        "hours": resource.hours,
        "region": resource.region,
        "language": resource.language,
        "description": resource.description,
    }


def hotlines_all() -> list[dict]:
    """Every active hotline in the directory, by region and name (the help page's full list)."""
    return [
        resource_row(h)
        for h in Resource.objects.filter(kind=Resource.Kind.HOTLINE, is_active=True).order_by(
            "region", "name"
        )
    ]


def hotlines_for_region(*, region: str, language: str, fallback: str | None = None) -> list[dict]:
    """Active hotlines of `region` and the worldwide ones, those in `language` (a session
    language, zh or en) first; with `fallback`, that region's too when `region` has none."""
    hotlines = list(
        Resource.objects.filter(
            kind=Resource.Kind.HOTLINE, is_active=True, region__in=[region, "global"]
        )
    )
    if fallback and not any(h.region == region for h in hotlines):
        hotlines += list(
            Resource.objects.filter(kind=Resource.Kind.HOTLINE, is_active=True, region=fallback)
        )
    hotlines.sort(key=lambda h: (h.region == "global", h.language != language, h.name))
    return [resource_row(h) for h in hotlines]


def crisis_hotlines_for(*, user: User) -> list[dict]:
    """Hotlines for the user's region (and the worldwide directory), their language first;
    China's when the directory has none for the region."""
    language = "en" if user.language == "en" else "zh"
    return hotlines_for_region(region=user_region(user), language=language, fallback="CN")


LONGER_TERM_KINDS = ("long-term-counseling", "hospital-psychiatry", "hotline")


def longer_term_resources_for(*, user: User) -> list[dict]:
    """Long-term counseling, hospital psychiatry and hotlines for the user's region (and
    worldwide), in that order, their language first."""
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
    return [{"id": r.pk, "kind": r.kind, **resource_row(r)} for r in resources]


def alert_frame(alert: CrisisAlert) -> dict:
    return {
        "type": "crisis.alert",
        "alert": {
            "id": alert.pk,
            "severity": alert.get_severity_display().lower(),
            "status": alert.status,
            "source": alert.source,
            "booking": alert.booking_id,
            "client": alert.client_id,
            "reasons": alert.reasons,
            "signal_count": alert.signal_count,
            "created_at": alert.created_at.isoformat(),
            "escalation_level": alert.escalation_level,
            "overdue": alert.overdue,
            "nobody_on_shift": alert.nobody_on_shift,
        },
    }


def crisis_signal_record(
    *,
    client: User,
    source: str,
    reasons: list[str],
    booking=None,
    raised_by: User | None = None,
    note: str = "",
) -> CrisisAlert:
    """Record a high-risk signal. Call inside the transaction that stores the text carrying it,
    holding the booking's row lock when there is a booking (so repeated signals in one booking
    join its open alert instead of multiplying it)."""
    now = timezone.now()
    if booking is not None:
        open_alert = (
            CrisisAlert.objects.select_for_update()
            .filter(booking=booking, status=CrisisAlert.Status.OPEN)
            .first()
        )
        if open_alert is not None:
            open_alert.reasons = list(dict.fromkeys(open_alert.reasons + reasons))
            open_alert.signal_count += 1
            if note:
                open_alert.note = f"{open_alert.note}\n{note}".strip()
            open_alert.save(update_fields=["reasons", "signal_count", "note"])
            # The client sees the resources again; the responders already have this alert.
            transaction.on_commit(lambda: _push_resources(open_alert.client))
            return open_alert
    alert = CrisisAlert.objects.create(
        client=client,
        booking=booking,
        source=source,
        reasons=reasons,
        raised_by=raised_by,
        note=note,
        created_at=now,
    )
    flag_raise(
        kind=EthicsFlag.Kind.CRISIS,
        booking=booking,
        alert=alert,
        counselor_id=booking.counselor_id if booking is not None else None,
        summary=f"Crisis alert {alert.pk} ({alert.get_source_display()})",
    )
    transaction.on_commit(lambda: _alert_dispatch(alert.pk))
    return alert


def _push_resources(client: User) -> None:
    push(
        user_group(client.pk),
        room_event({"type": "crisis.resources", "hotlines": crisis_hotlines_for(user=client)}),
    )


def flag_raise(
    *,
    kind: str,
    summary: str,
    booking=None,
    counselor_id: int | None = None,
    alert: CrisisAlert | None = None,
) -> EthicsFlag:
    """Open an ethics flag for staff review. Call inside the transaction that stores what the
    flag is about, so a flag exists exactly when its cause does."""
    return EthicsFlag.objects.create(
        kind=kind, booking=booking, counselor_id=counselor_id, alert=alert, summary=summary
    )


def text_screen(
    *,
    text: str,
    client: User,
    source: str,
    booking=None,
    reason_prefix: str = "",
    shared_by: str = "",
    where: str = "",
) -> CrisisAlert | None:
    """Screen a text somebody wrote, inside the transaction that stores it (the row is the
    outbox), holding the booking's row lock when there is a booking.

    A high crisis signal records an alert (joining the booking's open one), returned for the
    caller to show the client the crisis resources at once. With `shared_by` (the writer's
    role in the booking) and `where` ("message 4"), off-platform contact details also raise
    an `off-platform-contact` flag; it names the kinds and where, never the details."""
    if not text:
        return None
    alert = None
    detection = crisis_detect(text)
    if detection.risk == HIGH:
        alert = crisis_signal_record(
            client=client,
            booking=booking,
            source=source,
            reasons=[f"{reason_prefix}{r}" for r in detection.reasons],
        )
    if shared_by and booking is not None:
        contacts = off_platform_contact_detect(text)
        if contacts:
            kinds = sorted({c.split(":", 1)[0] for c in contacts})
            flag_raise(
                kind=EthicsFlag.Kind.OFF_PLATFORM_CONTACT,
                booking=booking,
                counselor_id=booking.counselor_id,
                summary=f"{shared_by} shared {', '.join(kinds)} in {where}",
            )
    return alert


def _alert_dispatch(alert_id: int) -> None:
    """After commit: the client's resources and the counselor's notice at once, then the
    Celery steps. Failures here are logged, not raised: the sweeper re-drives the alert."""
    try:
        alert = CrisisAlert.objects.select_related("client").get(pk=alert_id)
        _push_resources(alert.client)
        if alert.booking_id:
            room_push(
                alert.booking_id,
                {"type": "crisis.alert", "alert": alert.pk},
                exclude_user=alert.client_id,
            )
    except Exception:  # the alert row is safe; delivery is retried by the sweeper
        logger.exception("crisis alert %s: immediate delivery failed", alert_id)
    try:
        tasks.alert_notify.delay(alert_id)
        for level, after in LADDER.items():
            tasks.alert_escalate.apply_async((alert_id, level), eta=timezone.now() + after)
    except Exception:
        logger.exception("crisis alert %s: could not queue its tasks; the sweeper will", alert_id)


def _on_shift(now: dt.datetime) -> list[User]:
    return list(
        User.objects.filter(
            on_call_shifts__starts_at__lte=now, on_call_shifts__ends_at__gt=now, is_active=True
        ).distinct()
    )


def _all_staff() -> list[User]:
    return list(
        User.objects.filter(role__in=[User.Role.STAFF, User.Role.SUPERVISOR], is_active=True)
    )


def _email(users: list[User], subject: str, alert: CrisisAlert) -> None:
    recipients = sorted({u.email for u in users if u.email})
    if recipients:
        send_mail(
            subject=subject,
            message=(
                f"Crisis alert {alert.pk}: {alert.get_source_display()}, raised {alert.created_at:%Y-%m-%d %H:%M} UTC.\n"
                f"Reasons: {', '.join(alert.reasons)}\nOpen the on-call queue to acknowledge it."
            ),
            from_email=None,
            recipient_list=recipients,
        )


def alert_notify(*, alert_id: int) -> bool:
    """Tell the supervisors on shift (staff socket and e-mail); with nobody on shift, all staff,
    and the alert is flagged. Once per alert."""
    with transaction.atomic():
        alert = (
            CrisisAlert.objects.select_for_update(skip_locked=True)
            .filter(pk=alert_id, notified_at__isnull=True)
            .first()
        )
        if alert is None:
            return False
        now = timezone.now()
        recipients = _on_shift(now)
        if not recipients:
            recipients = _all_staff()
            alert.nobody_on_shift = True
        alert.notified_at = now
        alert.save(update_fields=["notified_at", "nobody_on_shift"])
        frame = alert_frame(alert)
        for user in recipients:
            push(user_group(user.pk), staff_event(frame))
        _email(recipients, "[Pianke] Crisis alert: please acknowledge", alert)
    return True


def alert_escalate(*, alert_id: int, level: int) -> bool:
    """Step `level` of the ladder for an alert nobody acknowledged: 1 (2 minutes) tells every
    supervisor and all staff; 2 (5 minutes) e-mails staff again and marks it overdue."""
    with transaction.atomic():
        alert = (
            CrisisAlert.objects.select_for_update(skip_locked=True)
            .filter(pk=alert_id, status=CrisisAlert.Status.OPEN, escalation_level=level - 1)
            .first()
        )
        if alert is None or timezone.now() < alert.created_at + LADDER[level] - SLACK:
            return False
        alert.escalation_level = level
        staff = _all_staff()
        if level == 1:
            _email(staff, "[Pianke] Crisis alert NOT acknowledged after 2 minutes", alert)
        else:
            alert.overdue = True
            _email(
                [u for u in staff if u.role == User.Role.STAFF] or staff,
                "[Pianke] OVERDUE crisis alert: not acknowledged after 5 minutes",
                alert,
            )
        alert.save(update_fields=["escalation_level", "overdue"])
        push(STAFF_GROUP, staff_event(alert_frame(alert)))
    return True


def alerts_sweep() -> int:
    """Re-drive every open alert whose step is due (the safety net behind the tasks)."""
    now = timezone.now()
    steps = 0
    for alert in CrisisAlert.objects.filter(status=CrisisAlert.Status.OPEN).only(
        "pk", "created_at", "notified_at", "escalation_level"
    ):
        if alert.notified_at is None:
            steps += alert_notify(alert_id=alert.pk)
        for level, after in LADDER.items():
            if alert.escalation_level < level and now >= alert.created_at + after:
                steps += alert_escalate(alert_id=alert.pk, level=level)
    return steps


def _check_responder(user: User) -> None:
    if not user.is_crisis_responder:
        raise PermissionDenied


@transaction.atomic
def alert_acknowledge(*, alert_id: int, user: User, note: str = "") -> CrisisAlert:
    _check_responder(user)
    alert = CrisisAlert.objects.select_for_update().get(pk=alert_id)
    if alert.status != CrisisAlert.Status.OPEN:
        raise Conflict(_("This alert was already acknowledged."), code="not_open")
    alert.status, alert.acknowledged_at, alert.acknowledged_by = (
        CrisisAlert.Status.ACKNOWLEDGED,
        timezone.now(),
        user,
    )
    if note:
        alert.outcome_note = note
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "outcome_note"])
    push_on_commit(STAFF_GROUP, staff_event(alert_frame(alert)))
    return alert


@transaction.atomic
def alert_resolve(*, alert_id: int, user: User, outcome: str, note: str) -> CrisisAlert:
    _check_responder(user)
    if outcome not in CrisisAlert.Outcome.values:
        raise ValidationError(
            {
                "outcome": [
                    _("Choose one of: %(values)s.")
                    % {"values": ", ".join(CrisisAlert.Outcome.values)}
                ]
            }
        )
    if not note.strip():
        raise ValidationError({"note": [_("Say what happened.")]})
    alert = CrisisAlert.objects.select_for_update().get(pk=alert_id)
    if alert.status == CrisisAlert.Status.RESOLVED:
        raise Conflict(_("This alert is already resolved."), code="resolved")
    now = timezone.now()
    if alert.status == CrisisAlert.Status.OPEN:  # resolving answers it too
        alert.acknowledged_at, alert.acknowledged_by = now, user
    alert.status, alert.resolved_at, alert.resolved_by = CrisisAlert.Status.RESOLVED, now, user
    alert.outcome, alert.outcome_note = outcome, note
    alert.save()
    push_on_commit(STAFF_GROUP, staff_event(alert_frame(alert)))
    return alert
