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

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.encryption import encrypt_text, rows_reencrypt
from core.exceptions import Conflict
from core.realtime import (
    STAFF_GROUP,
    push,
    push_on_commit,
    room_event,
    room_push,
    room_push_on_commit,
    staff_event,
    user_group,
)
from ethics import tasks
from ethics.contacts import off_platform_contact_detect
from ethics.conversation import (
    CHECK,
    WINDOW_MESSAGES,
    WINDOW_MINUTES,
    Assessment,
    Cue,
    MessageScreen,
    conversation_assess,
    message_screen,
)
from ethics.detector import HIGH, Detection, crisis_detect
from ethics.models import (
    CrisisAlert,
    EthicsFlag,
    Resource,
    RiskAssessment,
    RiskCheck,
    RiskCue,
)

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
    severity: int = CrisisAlert.Severity.HIGH,
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
        severity=severity,
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
    message_ref=None,
) -> CrisisAlert | None:
    """Screen a text somebody wrote, inside the transaction that stores it (the row is the
    outbox), holding the booking's row lock when there is a booking.

    A high crisis signal records an alert (joining the booking's open one), returned for the
    caller to show the client the crisis resources at once. With `shared_by` (the writer's
    role in the booking) and `where` ("message 4"), off-platform contact details also raise
    an `off-platform-contact` flag; it names the kinds and where, never the details.

    With `message_ref` (the stored chat or async message: its `pk`, `seq`, `sent_at` and
    `sender_id`), a client's message also joins the conversation-level assessment of the
    booking's thread and of the client's last 24 hours (`risk_text_record`): a rise to high
    records the alert the same way."""
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
    if message_ref is not None and message_ref.sender_id == client.pk:
        risen = risk_text_record(
            client=client,
            source=source,
            booking=booking,
            detection=detection,
            message_ref=message_ref,
            reason_prefix=reason_prefix,
        )
        alert = alert or risen
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


def text_screen_needed(text: str) -> bool:
    """Whether `text_screen` could record anything for this text, whoever wrote it and
    wherever: False only when the screen is certain to write and send nothing, i.e. the
    single-message screen is not high (no alert), the text has no conversation cue, the
    learned score's included (`risk_text_record` then returns at once) and no off-platform
    contact details (no flag). Pure, and the very detectors `text_screen` runs on the same
    text, so the two cannot drift apart; a writer may skip `text_screen`, and the booking
    row lock it needs, only when this is False (listening's one-statement chat line)."""
    if not text:
        return False
    detection = crisis_detect(text)
    return bool(detection.risk == HIGH or detection.cues or off_platform_contact_detect(text))


# --- Conversation-level risk (issue 12) ---------------------------------------------------

CLIENT_DAY = dt.timedelta(hours=24)

# What a client who worries about someone else is shown, with the hotlines (issue 12,
# point 4). Modelled on WHO "Preventing suicide: a resource for the general public" and
# the QPR gatekeeper steps (question, persuade, refer).
HELPING_SOMEONE = (
    gettext_lazy(
        "Take it seriously and ask them directly whether they are thinking about suicide. "
        "Asking does not put the idea in their head."
    ),
    gettext_lazy("Listen without judging. If they are in danger now, stay with them."),
    gettext_lazy(
        "Help them reach a hotline or a doctor. If a life is in danger, call emergency "
        "services (120 or 110 in mainland China)."
    ),
    gettext_lazy("If you can do it safely, move pills, blades or other means out of reach."),
    gettext_lazy(
        "Look after yourself too: supporting someone is heavy, and you can talk it over here."
    ),
)


def helping_someone_for(*, user: User) -> dict:
    """Resources on helping someone else, in the user's language, with their hotlines."""
    with translation.override("en" if user.language == "en" else "zh-hans"):
        return {
            "title": str(_("Worried about someone else?")),
            "steps": [str(step) for step in HELPING_SOMEONE],
        }


def _third_party_push(client: User) -> None:
    push(
        user_group(client.pk),
        room_event(
            {
                "type": "crisis.resources",
                "concern": "third-party",
                "helping_someone": helping_someone_for(user=client),
                "hotlines": crisis_hotlines_for(user=client),
            }
        ),
    )


def _screens(cues: list[RiskCue]) -> list[MessageScreen]:
    """The stored cues grouped back into one screen per text, oldest first."""
    grouped: dict[tuple, list[RiskCue]] = {}
    for cue in cues:
        # A message by its id; a note or an intake by when it was stored (one text, one instant).
        key = (cue.source, cue.message_id) if cue.message_id else (cue.source, cue.at)
        grouped.setdefault(key, []).append(cue)
    return [
        MessageScreen(
            rows[0].message_id,
            any(r.high for r in rows),
            tuple(
                Cue(
                    r.category,
                    r.phrase,
                    r.weight,
                    "" if r.person == RiskCue.Person.OWN else "third",
                    r.message_id,
                )
                for r in rows
            ),
        )
        for rows in grouped.values()
    ]


def _assessment_store(*, subject: str, client: User, assessment: Assessment, now, **key):
    """Upsert the subject's assessment; returns it with the level and rule it had before."""
    row = RiskAssessment.objects.select_for_update().filter(subject=subject, **key).first()
    before = (row.level, row.rule) if row is not None else (RiskAssessment.Level.NONE, "")
    if row is None:
        row = RiskAssessment(subject=subject, client=client, created_at=now, **key)
    row.level, row.rule, row.cues = assessment.level, assessment.rule, assessment.as_dict()["cues"]
    row.third_party, row.updated_at = assessment.third_party, now
    row.save()
    return row, *before


def _booking_window_start(booking, client: User, now):
    """The window of a booking's thread: the client's last WINDOW_MESSAGES messages or the last
    WINDOW_MINUTES minutes, whichever holds more. (`booking.messages` is listening's reverse
    relation: a query through the row we were given, not an import.)"""
    twelfth = list(
        booking.messages.filter(sender_id=client.pk)
        .order_by("-seq")
        .values_list("sent_at", flat=True)[WINDOW_MESSAGES - 1 : WINDOW_MESSAGES]
    )
    since = now - dt.timedelta(minutes=WINDOW_MINUTES)
    return min(since, twelfth[0]) if twelfth else None


def _booking_window_texts(booking, client: User, since) -> int:
    """How many messages the client wrote in the thread's window, quiet ones included (the
    learned score's weight in a window depends on it: `ethics.conversation`)."""
    messages = booking.messages.filter(sender_id=client.pk)
    if since is not None:
        messages = messages.filter(sent_at__gte=since)
    return messages.count()


def risk_text_record(
    *,
    client: User,
    source: str,
    text: str = "",
    detection: Detection | None = None,
    booking=None,
    message_ref=None,
    match_request_id: int | None = None,
    reason_prefix: str = "",
) -> CrisisAlert | None:
    """Keep a client's text's conversation cues and re-assess, inside the transaction that
    stores the text (holding the booking's row lock when there is a booking). Subjects: the
    booking's thread, the talk-now request (its note plus the client's intake) and the
    client's last 24 hours.

    A rise to high records the alert exactly as a single high text does (`crisis_signal_record`,
    joining the booking's open alert); a text the detector already rated high was recorded
    by its caller and is not recorded twice. A booking thread rising to check asks the
    counselor for a risk check in the room (`risk.check`). Someone else's risk alone opens
    no alert: the client is shown how to help them, with the hotlines.

    Cheap by design: a text with no cue at all stores and queries nothing."""
    if detection is None:
        detection = crisis_detect(text)
    if not detection.cues:
        return None  # the fast path
    now = timezone.now()
    at = getattr(message_ref, "sent_at", None) or now
    message_id = getattr(message_ref, "pk", None)
    screen = message_screen(detection, message_id)
    RiskCue.objects.bulk_create(
        RiskCue(
            client=client,
            booking=booking,
            match_request_id=match_request_id,
            source=source,
            message_id=message_id,
            seq=getattr(message_ref, "seq", None),
            category=cue.category,
            weight=cue.weight,
            phrase=cue.phrase[:200],
            person=RiskCue.Person.OTHER if cue.person else RiskCue.Person.OWN,
            high=screen.high,
            at=at,
        )
        for cue in screen.cues
    )
    if all(c.weight == 1 and not c.person for c in screen.cues) and not screen.high:
        # Only supporting cues ("tonight", "goodbye"): every rule needs a stronger cue of
        # another category, so they can change nothing while no subject of this text is at
        # check or above (or names someone else's risk). One query instead of a re-assessment.
        subject_of_text = Q(subject=RiskAssessment.Subject.CLIENT_DAY, client=client)
        if booking is not None:
            subject_of_text |= Q(subject=RiskAssessment.Subject.BOOKING, booking=booking)
        if match_request_id is not None:
            subject_of_text |= Q(
                subject=RiskAssessment.Subject.MATCH_REQUEST, match_request_id=match_request_id
            )
        if (
            not RiskAssessment.objects.filter(subject_of_text)
            .filter(Q(level__in=[HIGH, CHECK]) | Q(third_party=True))
            .exists()
        ):
            return None
    day = RiskCue.objects.filter(client=client, at__gte=now - CLIENT_DAY)
    subjects: list[tuple[str, dict, Assessment]] = []
    # Texts in the window, quiet ones included: a lower bound for the talk-now request and
    # the client's day (the texts with a cue, or the thread's window if it holds more).
    thread_texts = 0
    if booking is not None:
        since = _booking_window_start(booking, client, now)
        window = RiskCue.objects.filter(booking=booking)
        if since is not None:
            window = window.filter(at__gte=since)
        thread_texts = _booking_window_texts(booking, client, since)
        screens = _screens(list(window))
        subjects.append(
            (
                RiskAssessment.Subject.BOOKING,
                {"booking": booking},
                conversation_assess(screens, texts=max(thread_texts, len(screens))),
            )
        )
    if match_request_id is not None:
        window = RiskCue.objects.filter(match_request_id=match_request_id) | day.filter(
            source=CrisisAlert.Source.INTAKE
        )
        subjects.append(
            (
                RiskAssessment.Subject.MATCH_REQUEST,
                {"match_request_id": match_request_id},
                conversation_assess(_screens(list(window.order_by("at", "pk")))),
            )
        )
    day_screens = _screens(list(day))
    subjects.append(
        (
            RiskAssessment.Subject.CLIENT_DAY,
            {},
            conversation_assess(day_screens, texts=max(thread_texts, len(day_screens))),
        )
    )

    alert = None
    own_here = {(c.category, c.phrase) for c in screen.cues if not c.person}
    for subject, key, assessment in subjects:
        row, before, before_rule = _assessment_store(
            subject=subject, client=client, assessment=assessment, now=now, **key
        )
        fired_here = any(
            (category, phrase) in own_here for category, message, phrase in assessment.cues
        )
        if (
            assessment.level == HIGH
            and not screen.high
            and alert is None
            # A rise, or this text completing another pattern (it joins the open alert).
            and (before != HIGH or (fired_here and assessment.rule != before_rule))
        ):
            alert = crisis_signal_record(
                client=client,
                booking=booking,
                source=source,
                reasons=[
                    f"{reason_prefix}conversation {assessment.rule}: {category}: {phrase}"
                    for category, message, phrase in assessment.cues
                ],
            )
        if (
            subject == RiskAssessment.Subject.BOOKING
            and assessment.level == CHECK
            and before == RiskAssessment.Level.NONE
        ):
            if source == CrisisAlert.Source.MESSAGE and row.check_due_at is None:
                # An async thread: nobody reads it live, so the check has a deadline.
                row.check_due_at = now + dt.timedelta(seconds=risk_check_sla_seconds())
                row.check_answered_at = None
                row.save(update_fields=["check_due_at", "check_answered_at"])
                _after_commit_at(tasks.risk_check_overdue, row.pk, eta=row.check_due_at)
            room_push_on_commit(
                booking.pk,
                {
                    "type": "risk.check",
                    "booking": booking.pk,
                    "rule": assessment.rule,
                    "categories": sorted({c[0] for c in assessment.cues}),
                },
                exclude_user=client.pk,
            )
    has_other = any(c.person for c in screen.cues)
    if has_other and alert is None and not screen.high:
        transaction.on_commit(lambda: _third_party_push(client))
    return alert


def risk_check_sla_seconds() -> int:
    """How long a counselor has to do the risk check an async thread asked for (issue 12:
    4 hours)."""
    return settings.RISK_CHECK_SLA_SECONDS


def _after_commit_at(task, *args, eta) -> None:
    def send():
        try:
            task.apply_async(args, eta=eta)
        except Exception:  # the beat sweep (alerts_sweep) finds it anyway
            logger.exception("could not queue %s%s; the sweeper will", task.name, args)

    transaction.on_commit(send)


def risk_check_overdue(*, assessment_id: int) -> bool:
    """An async thread's risk check not done by its deadline goes to the on-call queue as an
    alert (low severity, so it queues behind the high ones, with the same ladder). Once."""
    booking_id = (
        RiskAssessment.objects.filter(pk=assessment_id).values_list("booking_id", flat=True).first()
    )
    if booking_id is None:
        return False
    with transaction.atomic():
        now = timezone.now()
        # The booking's row first, in the same order as a message being stored (no deadlock),
        # and so that the alert joins or opens the booking's one open alert safely.
        booking = _booking_model().objects.select_for_update().get(pk=booking_id)
        row = (
            RiskAssessment.objects.select_for_update(skip_locked=True)
            .select_related("client")
            .filter(
                pk=assessment_id,
                check_due_at__lte=now + SLACK,
                check_answered_at__isnull=True,
                check_escalated_at__isnull=True,
            )
            .first()
        )
        if row is None:
            return False
        row.check_escalated_at = now
        row.save(update_fields=["check_escalated_at"])
        hours = round(risk_check_sla_seconds() / 3600, 1)
        crisis_signal_record(
            client=row.client,
            booking=booking,
            source=CrisisAlert.Source.MESSAGE,
            reasons=[f"risk check not done within {hours:g} h (conversation {row.rule})"],
            severity=CrisisAlert.Severity.LOW,
        )
    return True


def risk_checks_overdue_sweep() -> int:
    """The safety net behind the eta tasks (run by the crisis-alert sweep)."""
    due = RiskAssessment.objects.filter(
        check_due_at__lte=timezone.now(),
        check_answered_at__isnull=True,
        check_escalated_at__isnull=True,
    ).values_list("pk", flat=True)
    return sum(risk_check_overdue(assessment_id=pk) for pk in due)


# --- The risk check: the C-SSRS screen in the room ------------------------------------------

# The questions are data in ethics/cssrs.py (the instrument's wording, both languages).


def cssrs_triage(
    *,
    q1_wish_dead: bool,
    q2_thoughts: bool,
    q3_method: bool | None,
    q4_intent: bool | None,
    q5_plan: bool | None,
    q6_behavior: bool,
    q6_recent: bool | None,
) -> str:
    """The screener's published triage: a yes to 4 or 5, or to 6 within the past 3 months,
    is high risk; a yes to 3, or to 6 longer ago, is moderate; a yes to 1 or 2 only is low."""
    if q4_intent or q5_plan or (q6_behavior and q6_recent):
        return RiskCheck.Outcome.HIGH
    if q3_method or q6_behavior:
        return RiskCheck.Outcome.MODERATE
    if q1_wish_dead or q2_thoughts:
        return RiskCheck.Outcome.LOW
    return RiskCheck.Outcome.NONE


def _booking_model():
    """listening's Booking, through our own foreign key to it: ethics sits below listening,
    so it never imports listening's models."""
    return RiskCheck._meta.get_field("booking").related_model


@transaction.atomic
def risk_check_record(
    *,
    counselor: User,
    booking_id: int,
    q1_wish_dead: bool,
    q2_thoughts: bool,
    q6_behavior: bool,
    q3_method: bool | None = None,
    q4_intent: bool | None = None,
    q5_plan: bool | None = None,
    q6_recent: bool | None = None,
    safety_plan: str = "",
    referral_note: str = "",
) -> RiskCheck:
    """Record the counselor's risk check on one of their bookings (404 for any other). A high
    outcome starts the crisis flow (joining the booking's open alert); a moderate one needs a
    safety plan and a referral note. Bad answers raise ValidationError and store nothing."""
    booking = (
        _booking_model()
        .objects.select_for_update()
        .select_related("client")
        .get(pk=booking_id, counselor_id=counselor.pk)
    )
    errors = {}
    if q2_thoughts:
        for name, value in (
            ("q3_method", q3_method),
            ("q4_intent", q4_intent),
            ("q5_plan", q5_plan),
        ):
            if value is None:
                errors[name] = [_("Answer this question: question 2 was a yes.")]
    else:
        q3_method = q4_intent = q5_plan = None  # not asked after a no to question 2
    if q6_behavior and q6_recent is None:
        errors["q6_recent"] = [_("Say whether it was within the past 3 months.")]
    if not q6_behavior:
        q6_recent = None
    answers = {
        "q1_wish_dead": q1_wish_dead,
        "q2_thoughts": q2_thoughts,
        "q3_method": q3_method,
        "q4_intent": q4_intent,
        "q5_plan": q5_plan,
        "q6_behavior": q6_behavior,
        "q6_recent": q6_recent,
    }
    outcome = cssrs_triage(**answers) if not errors else None
    if outcome == RiskCheck.Outcome.MODERATE:
        if not safety_plan.strip():
            errors["safety_plan"] = [_("Moderate risk: write the safety plan you agreed.")]
        if not referral_note.strip():
            errors["referral_note"] = [_("Moderate risk: say where you referred the client.")]
    if errors:
        raise ValidationError(errors)
    # The check the thread asked for is done (its deadline no longer runs).
    RiskAssessment.objects.filter(
        subject=RiskAssessment.Subject.BOOKING, booking=booking, check_answered_at__isnull=True
    ).update(check_answered_at=timezone.now())
    alert = None
    if outcome == RiskCheck.Outcome.HIGH:
        alert = crisis_signal_record(
            client=booking.client,
            booking=booking,
            source=CrisisAlert.Source.COUNSELOR,
            reasons=["risk check (C-SSRS screen): high risk"],
            raised_by=counselor,
        )
    else:
        alert = CrisisAlert.objects.filter(booking=booking, status=CrisisAlert.Status.OPEN).first()
    return RiskCheck.objects.create(
        booking=booking,
        alert=alert,
        counselor=counselor,
        outcome=outcome,
        safety_plan_ciphertext=encrypt_text(safety_plan) if safety_plan else b"",
        referral_note_ciphertext=encrypt_text(referral_note) if referral_note else b"",
        created_at=timezone.now(),
        **answers,
    )


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
    return steps + risk_checks_overdue_sweep()


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


def risk_checks_reencrypt(*, batch: int = 200) -> int:
    """Re-encrypt the risk checks' safety plans and referral notes under the newest key (key
    rotation, beside session_content_reencrypt). Returns the risk checks visited."""
    return rows_reencrypt(
        RiskCheck.objects.all(),
        ["safety_plan_ciphertext", "referral_note_ciphertext"],
        batch=batch,
    )


@transaction.atomic
def conversation_risk_erase(*, user: User) -> None:
    """Account deletion: the cues and assessments derived from what the client wrote go, and
    so do the risk checks of their sessions not under an ethics hold (with the session
    content). Crisis alerts stay: they are the record of what was done."""
    RiskCue.objects.filter(client=user).delete()
    RiskAssessment.objects.filter(client=user).delete()
    RiskCheck.objects.filter(booking__client=user, booking__ethics_hold=False).delete()


def risk_cues_purge(*, booking_ids: list[int]) -> None:
    """The retention purge: a booking's stored cues go with its messages. Call in the purge's
    transaction."""
    RiskCue.objects.filter(booking_id__in=booking_ids).delete()


def conversation_risk_export(*, user: User) -> dict:
    """What the conversation screen concluded about the client, for their data export: each
    assessment's subject, level and rule (the cues are the lexicon's words, not theirs)."""
    return {
        "risk_assessments": [
            {
                "subject": a.subject,
                "booking": a.booking_id,
                "level": a.level,
                "rule": a.rule,
                "updated_at": a.updated_at.isoformat(),
            }
            for a in RiskAssessment.objects.filter(client=user).order_by("created_at", "pk")
        ]
    }
