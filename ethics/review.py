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

Also `off_platform_contact_detect`, a pure text check for phone numbers, WeChat / QQ ids,
e-mail addresses and social-media handles."""

from __future__ import annotations

import datetime as dt
import logging
import re

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
from ethics.services import crisis_screen_and_record
from listening.models import Booking, SessionMessage

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
    from ethics import tasks

    try:
        tasks.referral_follow_up.apply_async((referral_id,), eta=eta)
    except Exception:  # noqa: BLE001 - the beat sweep (referrals_follow_up_due) sends it anyway
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
    flag = EthicsFlag.objects.create(
        kind=EthicsFlag.Kind.COMPLAINT,
        booking=booking,
        counselor_id=booking.counselor_id,
        summary=f"Complaint from the client about booking {booking.pk}",
    )
    alert = crisis_screen_and_record(
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
    from listening.services import message_frame

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


def _counselor_suspend(*, profile: CounselorProfile, now: dt.datetime, reason: str) -> list[int]:
    """Unlist the counselor and cancel their future confirmed sessions; each client is told
    (cancelled_by is the counselor, so the notice goes to the client)."""
    from listening.tasks import booking_cancelled_notify

    from matching.services import presence_end

    CounselorProfile.objects.filter(pk=profile.pk).update(is_active=False)
    presence_end(counselor_id=profile.pk)  # talk-now offers stop at once
    bookings = list(
        Booking.objects.select_for_update()
        .filter(counselor=profile, status=Booking.Status.CONFIRMED, start__gt=now)
        .order_by("start")
    )
    for booking in bookings:
        booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
        booking.cancelled_by_id, booking.cancel_reason = profile.pk, reason
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        booking_cancelled_notify.delay_on_commit(booking.pk)
    return [b.pk for b in bookings]


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
        profile = CounselorProfile.objects.select_for_update().get(pk=flag.counselor_id)
        cancelled = _counselor_suspend(profile=profile, now=now, reason="counselor suspended")
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


# --- off-platform contact --------------------------------------------------------------------

_CN_DIGITS = str.maketrans(
    "零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖幺", "00123456789123456789" + "1"
)
# Digits written apart ("1 3 8-0013 8000", "138.0013.8000") are joined before phone matching.
_SPACED_DIGITS = re.compile(r"(?<!\d)(?:\d[\s\-.·_/]{0,3}){7,15}\d(?!\d)")
_WECHAT = re.compile(
    r"(?:微信号?|威信|薇信|维信|徽信|V信|vx|wx|weixin|wechat|we\s?chat)\s*(?:id|号)?\s*(?:是|:|：|-)?\s*"
    r"([A-Za-z][-_A-Za-z0-9]{5,19})",
    re.IGNORECASE,
)
_WECHAT_MENTION = re.compile(
    r"加(?:我|个)?(?:微信|微|V|vx|wx|威信|薇信)|add me on we\s?chat|my we\s?chat", re.IGNORECASE
)
_QQ = re.compile(
    r"(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*(?:是|:|：|-)?\s*([1-9]\d{4,11})(?!\d)", re.IGNORECASE
)
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s*[@＠]\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# "jane at gmail dot com", "jane(at)qq(dot)com"
_EMAIL_SPELLED = re.compile(
    r"([A-Za-z0-9._%+\-]+)\s*(?:\(at\)|\[at\]|\sat\s)\s*([A-Za-z0-9\-]+)\s*"
    r"(?:\(dot\)|\[dot\]|\sdot\s)\s*(com|net|org|cn|edu|hk|tw|io|me|co)\b",
    re.IGNORECASE,
)
_SOCIAL = re.compile(
    r"(?<![A-Za-z])(telegram|tg|whatsapp|line|instagram|ins|facebook|fb|twitter|discord|snapchat|skype|"
    r"weibo|微博|抖音|douyin|小红书|xhs|钉钉|dingtalk|kakao)\s*(?:id|号)?\s*(?:是|:|：)\s*@?([A-Za-z0-9_.\-]{3,30})",
    re.IGNORECASE,
)
_SOCIAL_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|wa\.me|instagram\.com|facebook\.com|fb\.me|"
    r"twitter\.com|x\.com|weibo\.com|xiaohongshu\.com|douyin\.com|u\.wechat\.com)/[\w.\-/]+",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?:(?<=\s)|^)@([A-Za-z][A-Za-z0-9_.]{2,29})\b")
# Personal numbers only: service lines (toll-free, shared-cost, premium, UAN) are how hotlines publish.
_PHONE_REGIONS = ("CN", "HK", "TW", "MO", "US", "GB")


def _phones(text: str) -> list[str]:
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - the fallback: long digit runs
        return [m.group(0) for m in re.finditer(r"(?<!\d)(?:\+?\d[\s\-]?){8,14}\d(?!\d)", text)]
    personal = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    }
    candidates = [text, _SPACED_DIGITS.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)]
    found: dict[str, str] = {}
    for candidate in candidates:
        for region in _PHONE_REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(
                candidate, region, leniency=phonenumbers.Leniency.VALID
            ):
                if phonenumbers.number_type(match.number) not in personal:
                    continue
                # One number, one reason: the first region (CN first) that reads it validly wins.
                digits = re.sub(r"\D", "", match.raw_string)
                found.setdefault(
                    digits,
                    phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164),
                )
    return list(dict.fromkeys(found.values()))


def off_platform_contact_detect(text: str) -> list[str]:
    """Contact details that would take a session off the platform, as `kind: value` strings
    (`phone: +8613800138000`, `wechat: abc_123`, `qq: 12345678`, `email: a@b.cn`,
    `social: telegram alice`, `social: @alice`). Empty when there are none. Pure: no database."""
    if not text:
        return []
    norm = text.translate(_CN_DIGITS)
    # Full-width letters and digits to ASCII.
    norm = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in norm)
    reasons: list[str] = []
    reasons += ["email: " + re.sub(r"\s+", "", m.group(0)) for m in _EMAIL.finditer(norm)]
    reasons += [
        f"email: {m.group(1)}@{m.group(2)}.{m.group(3)}" for m in _EMAIL_SPELLED.finditer(norm)
    ]
    rest = _EMAIL_SPELLED.sub(" ", _EMAIL.sub(" ", norm))
    reasons += [f"wechat: {m.group(1)}" for m in _WECHAT.finditer(rest)]
    if not any(r.startswith("wechat:") for r in reasons) and _WECHAT_MENTION.search(rest):
        reasons.append("wechat: (asked to add)")
    reasons += [f"qq: {m.group(1)}" for m in _QQ.finditer(rest)]
    reasons += [f"social: {m.group(0)}" for m in _SOCIAL_LINK.finditer(rest)]
    rest = _SOCIAL_LINK.sub(" ", rest)
    reasons += [f"social: {m.group(1).lower()} {m.group(2)}" for m in _SOCIAL.finditer(rest)]
    reasons += [f"social: @{m.group(1)}" for m in _AT_HANDLE.finditer(_SOCIAL.sub(" ", rest))]
    reasons += [f"phone: {p}" for p in _phones(_QQ.sub(" ", rest))]
    return list(dict.fromkeys(reasons))


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
    return EthicsFlag.objects.create(
        kind=kind,
        booking=booking,
        counselor=booking.counselor,
        summary=f"Reported by the {role}: {text.strip()}",
    )
