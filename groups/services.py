"""Business rules of group sessions: opening, seats, moderation, chat, the side channel and
the clock. Every write is here; views, pages, the consumer and tasks call these."""

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from accounts.notices import notice_kind_register
from accounts.services import notice_send
from billing.services import (
    ledger_group_seat_charge,
    ledger_group_seat_complete,
    ledger_group_seat_refund,
)
from core.encryption import decrypt_text, encrypt_text
from core.exceptions import Conflict
from core.realtime import push_on_commit, room_event
from counselors.models import CounselorEngagement, CounselorProfile
from ethics.contacts import off_platform_contact_detect
from ethics.models import CrisisAlert, EthicsFlag
from ethics.services import crisis_hotlines_for, flag_raise, text_screen
from groups.models import (
    GROUP_CAPACITY_MAX,
    GROUP_CAPACITY_MIN,
    GROUP_LENGTHS,
    GROUP_WARNING_MINUTES,
    GroupCrisisLink,
    GroupMessage,
    GroupModeration,
    GroupRemoval,
    GroupSeat,
    GroupSession,
    GroupSideMessage,
    pseudonym_for,
)
from intake.services import intake_require
from listening.models import Booking

# The refund policy (docs/billing.md): a seat given up more than this before the start is
# refunded in full; after that it cannot be given up (its charge stands).
LEAVE_WITH_REFUND_BEFORE = dt.timedelta(hours=2)

GROUP_CANCELLED = "group_cancelled"
notice_kind_register(
    GROUP_CANCELLED, _lazy("The group session on %(start)s was cancelled."), times=["start"]
)


def group_room_group(group_id: int) -> str:
    """Every socket in a group's room, /ws/groups/{id}/."""
    return f"group.{group_id}"


def group_member_group(group_id: int, user_id: int) -> str:
    """One member's sockets in one group's room (side channel, removal): not `user_group`,
    whose sockets include one-to-one rooms that must never get group frames."""
    return f"group.{group_id}.user.{user_id}"


def _push_room(group_id: int, frame: dict) -> None:
    push_on_commit(group_room_group(group_id), room_event(frame))


def _push_member(group_id: int, user_id: int, frame: dict) -> None:
    push_on_commit(group_member_group(group_id, user_id), room_event(frame))


def _counselor_of(user: User) -> CounselorProfile:
    if not user.is_counselor:
        raise PermissionDenied(_("Only counselors can do this."))
    try:
        return user.counselor_profile
    except ObjectDoesNotExist as exc:
        raise PermissionDenied(_("Only counselors can do this.")) from exc


def _own_group_locked(*, group_id: int, counselor_user: User) -> GroupSession:
    profile = _counselor_of(counselor_user)
    group = GroupSession.objects.select_for_update().filter(pk=group_id, counselor=profile).first()
    if group is None:
        raise GroupSession.DoesNotExist("No such group session.")
    return group


# --- Opening and cancelling ------------------------------------------------------------------


@transaction.atomic
def group_create(
    *,
    counselor_user: User,
    title: str,
    topic: str,
    start: dt.datetime,
    duration_minutes: int,
    capacity: int,
    price: Decimal,
) -> GroupSession:
    """A counselor opens a group in the future; its seat rows are created with it."""
    profile = _counselor_of(counselor_user)
    if not profile.is_listed:
        raise PermissionDenied(_("Only a verified, active counselor can open a group."))
    # The profile row lock orders this against one-to-one bookings of the same counselor.
    CounselorProfile.objects.select_for_update(no_key=True).filter(pk=profile.pk).first()
    errors = {}
    now = timezone.now()
    if not title.strip():
        errors["title"] = _("Give the group a title.")
    if not topic.strip():
        errors["topic"] = _("Describe the group's topic.")
    if start <= now:
        errors["start"] = _("The start must be in the future.")
    if duration_minutes not in GROUP_LENGTHS:
        errors["duration_minutes"] = _("A group lasts 30 or 45 minutes.")
    if not GROUP_CAPACITY_MIN <= capacity <= GROUP_CAPACITY_MAX:
        errors["capacity"] = _("A group has 3 to 8 seats.")
    if not settings.OFFERING_PRICE_MIN <= price <= settings.OFFERING_PRICE_MAX:
        errors["price"] = _("The price must be between %(low)s and %(high)s.") % {
            "low": settings.OFFERING_PRICE_MIN,
            "high": settings.OFFERING_PRICE_MAX,
        }
    if errors:
        raise ValidationError(errors)
    end = start + dt.timedelta(minutes=duration_minutes)
    busy = Booking.objects.filter(
        counselor=profile, status=Booking.Status.CONFIRMED, start__lt=end, end__gt=start
    ).exists() or any(
        other.end > start
        for other in GroupSession.objects.filter(
            counselor=profile, status=GroupSession.Status.SCHEDULED, start__lt=end
        )
    )
    if busy:
        raise Conflict(
            _("You already have a session or a group at that time."), code="counselor_busy"
        )
    group = GroupSession.objects.create(
        counselor=profile,
        title=title.strip(),
        topic=topic.strip(),
        start=start,
        duration_minutes=duration_minutes,
        capacity=capacity,
        price=price,
        created_at=now,
    )
    GroupSeat.objects.bulk_create(
        GroupSeat(group=group, position=p) for p in range(1, capacity + 1)
    )
    # The counselor's time is held: no one-to-one session is booked over the group.
    CounselorEngagement.objects.create(
        counselor=profile, start=start, end=end, reference=_engagement_ref(group.pk)
    )
    return group


def _engagement_ref(group_id: int) -> str:
    return f"group:{group_id}"


@transaction.atomic
def group_cancel(*, group_id: int, counselor_user: User) -> GroupSession:
    """The counselor cancels their own group before it starts; its members are told."""
    group = _own_group_locked(group_id=group_id, counselor_user=counselor_user)
    if group.status != GroupSession.Status.SCHEDULED or group.start <= timezone.now():
        raise Conflict(
            _("Only a group that has not started can be cancelled."), code="not_cancellable"
        )
    group.status = GroupSession.Status.CANCELLED
    group.cancelled_at = timezone.now()
    group.save(update_fields=["status", "cancelled_at"])
    CounselorEngagement.objects.filter(reference=_engagement_ref(group.pk)).delete()
    url = f"/groups/{group.pk}/"
    seated = GroupSeat.objects.filter(group=group, client__isnull=False).select_related("client")
    for seat in seated:
        ledger_group_seat_refund(seat_id=seat.pk)  # the counselor cancels: refunded in full
        notice_send(
            user=seat.client,
            kind=GROUP_CANCELLED,
            params={"start": group.start.isoformat()},
            url=url,
        )
    _push_room(group.pk, {"type": "session.ended", "status": group.status})
    return group


# --- Seats -----------------------------------------------------------------------------------


@transaction.atomic
def group_join(*, group_id: int, client: User) -> GroupSeat:
    """A client takes one free seat. Conflict (409) when full, started, cancelled, the
    counselor is not active, they were removed, or they hold a seat in an overlapping group.

    The client's user row is locked first so two joins by the same client are serialised (the
    overlap rule); the seat itself is a `FOR UPDATE SKIP LOCKED` pick of one free row, so
    concurrent joiners each get a different row and nobody gets a seat that does not exist."""
    if not client.is_client:
        raise PermissionDenied(_("Only clients take seats in a group."))
    User.objects.select_for_update().filter(pk=client.pk).first()
    group = GroupSession.objects.select_related("counselor__user").filter(pk=group_id).first()
    if group is None:
        raise GroupSession.DoesNotExist("No such group session.")
    now = timezone.now()
    if group.status != GroupSession.Status.SCHEDULED:
        raise Conflict(_("This group is no longer open."), code="group_closed")
    if group.start <= now:
        raise Conflict(_("This group has already started."), code="group_started")
    if not group.counselor.is_listed:
        raise Conflict(_("This group's counselor is not taking groups now."), code="group_closed")
    intake_require(client)
    if GroupRemoval.objects.filter(group=group, client=client).exists():
        raise Conflict(_("You were removed from this group."), code="removed")
    existing = GroupSeat.objects.filter(group=group, client=client).first()
    if existing is not None:
        return existing  # joining twice is the same seat (idempotent)
    overlapping = GroupSeat.objects.filter(
        client=client,
        group__status=GroupSession.Status.SCHEDULED,
        group__start__lt=group.end,
    ).select_related("group")
    for seat in overlapping:
        if seat.group.end > group.start:
            raise Conflict(
                _("You already have a seat in a group at that time."), code="overlapping_group"
            )
    seat = (
        GroupSeat.objects.select_for_update(skip_locked=True)
        .filter(group=group, client__isnull=True)
        .order_by("position")
        .first()
    )
    if seat is None:
        raise Conflict(_("This group is full."), code="group_full")
    seat.client = client
    seat.taken_at = now
    seat.muted_at = None
    seat.muted_by = None
    try:
        with transaction.atomic():
            seat.save(update_fields=["client", "taken_at", "muted_at", "muted_by"])
    except IntegrityError as exc:  # the one-seat-per-client constraint: a racing second tab
        raise Conflict(_("You already have a seat in this group."), code="already_joined") from exc
    # The seat's price is charged with it (held until the group is given, docs/billing.md).
    ledger_group_seat_charge(
        seat_id=seat.pk, client_id=client.pk, counselor_id=group.counselor_id, amount=group.price
    )
    return seat


@transaction.atomic
def group_leave(*, group_id: int, client: User) -> None:
    """The client gives up their seat before the start (it becomes free again). During the
    group they simply close the room; the seat stays theirs until the end."""
    seat = (
        GroupSeat.objects.select_for_update()
        .select_related("group")
        .filter(group_id=group_id, client=client)
        .first()
    )
    if seat is None:
        raise Conflict(_("You do not have a seat in this group."), code="not_joined")
    now = timezone.now()
    if seat.group.start <= now:
        raise Conflict(_("The group has started; close the room to leave."), code="group_started")
    if seat.group.start - now <= LEAVE_WITH_REFUND_BEFORE:
        # The refund policy: a seat given up this late is not refunded, so it is not freed
        # either (its charge stands; giving it to someone else would charge the seat twice).
        raise Conflict(
            _(
                "Within two hours of the start a seat can no longer be given up. If you cannot "
                "come, you need not join; the counselor keeps your seat."
            ),
            code="too_late_to_leave",
        )
    ledger_group_seat_refund(seat_id=seat.pk)
    seat.client = None
    seat.taken_at = None
    seat.muted_at = None
    seat.muted_by = None
    seat.save(update_fields=["client", "taken_at", "muted_at", "muted_by"])


# --- Moderation ------------------------------------------------------------------------------


def _seat_at(group: GroupSession, position: int) -> GroupSeat:
    seat = (
        GroupSeat.objects.select_for_update()
        .filter(group=group, position=position, client__isnull=False)
        .first()
    )
    if seat is None:
        raise ValidationError({"position": _("No participant has that seat.")})
    return seat


@transaction.atomic
def group_mute(
    *, group_id: int, counselor_user: User, position: int, muted: bool = True
) -> GroupSeat:
    """The counselor mutes (or unmutes) a participant: their chat is refused. Audited."""
    group = _own_group_locked(group_id=group_id, counselor_user=counselor_user)
    seat = _seat_at(group, position)
    now = timezone.now()
    seat.muted_at = now if muted else None
    seat.muted_by = counselor_user if muted else None
    seat.save(update_fields=["muted_at", "muted_by"])
    GroupModeration.objects.create(
        group=group,
        client_id=seat.client_id,
        action=GroupModeration.Action.MUTE if muted else GroupModeration.Action.UNMUTE,
        actor=counselor_user,
        at=now,
    )
    _push_room(
        group.pk,
        {
            "type": "participant.muted",
            "seat": position,
            "pseudonym": pseudonym_for(position),
            "muted": muted,
        },
    )
    return seat


@transaction.atomic
def group_remove(*, group_id: int, counselor_user: User, position: int) -> GroupRemoval:
    """The counselor removes a participant: their sockets close, the seat is freed and they
    cannot rejoin this group. Audited."""
    group = _own_group_locked(group_id=group_id, counselor_user=counselor_user)
    seat = _seat_at(group, position)
    now = timezone.now()
    client_id = seat.client_id
    removal = GroupRemoval.objects.create(
        group=group,
        client_id=client_id,
        pseudonym=pseudonym_for(position),
        removed_by=counselor_user,
        removed_at=now,
    )
    GroupModeration.objects.create(
        group=group,
        client_id=client_id,
        action=GroupModeration.Action.REMOVE,
        actor=counselor_user,
        at=now,
    )
    ledger_group_seat_refund(seat_id=seat.pk)  # the counselor ended it: refunded in full
    seat.client = None
    seat.taken_at = None
    seat.muted_at = None
    seat.muted_by = None
    seat.save(update_fields=["client", "taken_at", "muted_at", "muted_by"])
    _push_member(
        group.pk, client_id, {"type": "participant.removed", "seat": position, "you": True}
    )
    _push_room(
        group.pk,
        {"type": "participant.removed", "seat": position, "pseudonym": pseudonym_for(position)},
    )
    return removal


# --- Chat ------------------------------------------------------------------------------------


def _message_text(text: str | None) -> str:
    """A chat line's text, stripped: 400 on `text` when empty or over CHAT_MAX_CHARS (the
    one-to-one rooms' limit)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("A message needs some text.")})
    if len(text) > settings.CHAT_MAX_CHARS:
        raise ValidationError(
            {"text": _("A message is at most %(n)s characters.") % {"n": settings.CHAT_MAX_CHARS}}
        )
    return text


def _room_open(group: GroupSession, now: dt.datetime) -> None:
    if group.status != GroupSession.Status.SCHEDULED or group.ended_at is not None:
        raise Conflict(_("This group has ended."), code="session_over")
    if now < group.start:
        raise Conflict(_("The group has not started yet."), code="not_started")
    if now >= group.end:
        raise Conflict(_("This group has ended."), code="session_over")


def member_seat(*, group: GroupSession, user: User) -> GroupSeat | None:
    return GroupSeat.objects.filter(group=group, client=user).first()


@transaction.atomic
def group_message_post(*, group_id: int, sender: User, uid: uuid.UUID, text: str):
    """Store one chat line under the group's row lock (seq allocation, dedupe by `uid`).

    Returns (message, created, crisis_alert). A client's text is screened in the same
    transaction (the alert row is the outbox); a high signal opens the side channel between
    that client and the counselor. Off-platform contact details raise the usual flag."""
    group = GroupSession.objects.select_for_update().select_related("counselor").get(pk=group_id)
    text = _message_text(text)
    existing = GroupMessage.objects.filter(group=group, uid=uid).first()
    if existing is not None:
        if existing.sender_id != sender.pk:
            raise Conflict(_("That message id is taken."), code="duplicate_id")
        return existing, False, None
    now = timezone.now()
    _room_open(group, now)
    is_counselor = group.counselor.user_id == sender.pk
    seat = None
    if not is_counselor:
        seat = member_seat(group=group, user=sender)
        if seat is None:
            raise PermissionDenied(_("You are not in this group."))
        if seat.muted_at is not None:
            raise Conflict(_("The counselor has muted you for now."), code="muted")
    # Stored in English like seat pseudonyms; the pages translate both when they show them.
    pseudonym = "Counselor" if is_counselor else pseudonym_for(seat.position)
    group.message_seq += 1
    group.save(update_fields=["message_seq"])
    message = GroupMessage.objects.create(
        group=group,
        seq=group.message_seq,
        uid=uid,
        sender=sender,
        pseudonym=pseudonym,
        seat=None if is_counselor else seat.position,
        ciphertext=encrypt_text(text),
        sent_at=now,
    )
    alert = None
    if not is_counselor:
        alert = text_screen(
            text=text,
            client=sender,
            source=CrisisAlert.Source.CHAT,
            reason_prefix=f"group {group.pk}: ",
        )
        if alert is not None:
            _side_open(group=group, client=sender, alert=alert, position=seat.position)
    contacts = off_platform_contact_detect(text)
    if contacts:
        kinds = sorted({c.split(":", 1)[0] for c in contacts})
        flag_raise(
            kind=EthicsFlag.Kind.OFF_PLATFORM_CONTACT,
            counselor_id=group.counselor_id,
            summary=f"{'counselor' if is_counselor else pseudonym} shared {', '.join(kinds)} "
            f"in group {group.pk} message {message.seq}",
        )
    message.text = text  # transient, for the caller
    return message, True, alert


def _side_open(*, group: GroupSession, client: User, alert: CrisisAlert, position: int) -> None:
    GroupCrisisLink.objects.get_or_create(
        group=group, client=client, defaults={"alert": alert, "opened_at": timezone.now()}
    )
    frame = {
        "type": "side.opened",
        "seat": position,
        "pseudonym": pseudonym_for(position),
        "alert": alert.pk,
    }
    _push_member(group.pk, client.pk, {**frame, "hotlines": crisis_hotlines_for(user=client)})
    _push_member(group.pk, group.counselor.user_id, frame)


@transaction.atomic
def group_side_post(
    *, group_id: int, sender: User, uid: uuid.UUID, text: str, seat: int | None = None
) -> tuple[GroupSideMessage, bool]:
    """A line in the private side channel. The client writes to the counselor; the counselor
    names the participant by `seat`. Only open once a crisis link exists for that client."""
    group = GroupSession.objects.select_for_update().select_related("counselor").get(pk=group_id)
    text = _message_text(text)
    existing = GroupSideMessage.objects.filter(group=group, uid=uid).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    _room_open(group, now)
    if group.counselor.user_id == sender.pk:
        member = GroupSeat.objects.filter(
            group=group, position=seat or 0, client__isnull=False
        ).first()
        if member is None:
            raise ValidationError({"seat": _("No participant has that seat.")})
        client_id, position = member.client_id, member.position
    else:
        member = member_seat(group=group, user=sender)
        if member is None:
            raise PermissionDenied(_("You are not in this group."))
        client_id, position = sender.pk, member.position
    if not GroupCrisisLink.objects.filter(group=group, client_id=client_id).exists():
        raise Conflict(
            _("There is no private channel with this participant."), code="no_side_channel"
        )
    group.side_seq += 1
    group.save(update_fields=["side_seq"])
    message = GroupSideMessage.objects.create(
        group=group,
        client_id=client_id,
        seq=group.side_seq,
        uid=uid,
        sender=sender,
        ciphertext=encrypt_text(text),
        sent_at=now,
    )
    if sender.pk == client_id:
        alert = text_screen(
            text=text,
            client=sender,
            source=CrisisAlert.Source.CHAT,
            reason_prefix=f"group {group.pk} side: ",
        )
        if alert is not None:
            _push_member(
                group.pk,
                sender.pk,
                {"type": "crisis.resources", "hotlines": crisis_hotlines_for(user=sender)},
            )
    frame = {
        "type": "side.message",
        "id": str(uid),
        "seq": message.seq,
        "seat": position,
        "from": "counselor" if sender.pk != client_id else "participant",
        "text": text,
        "sent_at": now.isoformat(),
    }
    _push_member(group.pk, client_id, frame)
    _push_member(group.pk, group.counselor.user_id, frame)
    return message, True


# --- The clock -------------------------------------------------------------------------------


def group_warn(*, group_id: int) -> bool:
    """Send `session.warning` once, in the last minutes of a group (claimed by a conditional update)."""
    now = timezone.now()
    group = GroupSession.objects.get(pk=group_id)
    if not group.end - dt.timedelta(minutes=GROUP_WARNING_MINUTES) <= now < group.end:
        return False
    with transaction.atomic():
        claimed = GroupSession.objects.filter(
            pk=group_id, status=GroupSession.Status.SCHEDULED, warned_at__isnull=True
        ).update(warned_at=now)
        if claimed:
            _push_room(
                group_id,
                {
                    "type": "session.warning",
                    "remaining_seconds": max(0, round((group.end - now).total_seconds())),
                    "end": group.end.isoformat(),
                },
            )
    return bool(claimed)


def group_end(*, group_id: int) -> bool:
    """End a group at its end, once: no more messages are stored and sockets close."""
    now = timezone.now()
    group = GroupSession.objects.get(pk=group_id)
    if now < group.end:
        return False
    with transaction.atomic():
        claimed = GroupSession.objects.filter(
            pk=group_id, status=GroupSession.Status.SCHEDULED, ended_at__isnull=True
        ).update(status=GroupSession.Status.ENDED, ended_at=now)
        if claimed:
            # The group was given: each seat's earning is due (a client who did not come is
            # a client no-show, and the counselor is paid, as for one-to-one sessions).
            for seat_id in GroupSeat.objects.filter(
                group_id=group_id, client__isnull=False
            ).values_list("pk", flat=True):
                ledger_group_seat_complete(seat_id=seat_id)
            _push_room(group_id, {"type": "session.ended", "status": GroupSession.Status.ENDED})
    return bool(claimed)


def groups_clock_due(
    *, now: dt.datetime, lookahead: dt.timedelta
) -> list[tuple[str, int, dt.datetime]]:
    """The clock events (`warn`, `end`) of scheduled groups falling due before now +
    lookahead, as (event, group id, when): the beat's tick queues each at its time, as the
    one-to-one session clock does; `group_warn` and `group_end` claim their event, so a copy
    queued twice does nothing the second time."""
    horizon = now + lookahead
    due = []
    for group in GroupSession.objects.filter(
        status=GroupSession.Status.SCHEDULED,
        ended_at__isnull=True,
        start__lte=horizon,
    ).only("pk", "start", "duration_minutes", "warned_at"):
        warn_at = group.end - dt.timedelta(minutes=GROUP_WARNING_MINUTES)
        if group.warned_at is None and warn_at <= horizon and now < group.end:
            due.append(("warn", group.pk, warn_at))
        if group.end <= horizon:
            due.append(("end", group.pk, group.end))
    return due


# --- Export and erasure ----------------------------------------------------------------------


def group_data_export(*, user: User) -> dict:
    """A client's seats and their own messages (group and side channel), decrypted."""
    messages = GroupMessage.objects.filter(sender=user).select_related("group").order_by("sent_at")
    side = GroupSideMessage.objects.filter(client=user).select_related("group").order_by("sent_at")
    return {
        "group_seats": [
            {
                "group": s.group.title,
                "start": s.group.start.isoformat(),
                "pseudonym": pseudonym_for(s.position),
            }
            for s in GroupSeat.objects.filter(client=user).select_related("group")
        ],
        "group_messages": [
            {
                "group": m.group.title,
                "seq": m.seq,
                "pseudonym": m.pseudonym,
                "text": decrypt_text(m.ciphertext) if m.ciphertext else "",
                "sent_at": m.sent_at.isoformat(),
            }
            for m in messages
        ],
        "group_side_messages": [
            {
                "group": m.group.title,
                "seq": m.seq,
                "from": "me" if m.sender_id == user.pk else "counselor",
                "text": decrypt_text(m.ciphertext) if m.ciphertext else "",
                "sent_at": m.sent_at.isoformat(),
            }
            for m in side
        ],
    }


@transaction.atomic
def counselor_groups_cancel(*, counselor_user: User, now: dt.datetime | None = None) -> list[int]:
    """Cancel the counselor's groups that have not started (suspension, account deletion);
    each seated client is told. Returns the cancelled groups' ids."""
    now = now or timezone.now()
    ids = list(
        GroupSession.objects.filter(
            counselor__user=counselor_user, status=GroupSession.Status.SCHEDULED, start__gt=now
        ).values_list("pk", flat=True)
    )
    for group_id in ids:
        group_cancel(group_id=group_id, counselor_user=counselor_user)
    return ids


@transaction.atomic
def group_data_erase(*, user: User) -> None:
    """Erase the content a client wrote in groups (and their side channel) and free their
    seats; a counselor's groups that have not started are cancelled."""
    if user.is_counselor:
        counselor_groups_cancel(counselor_user=user)
    for seat_id in GroupSeat.objects.filter(
        client=user,
        group__status=GroupSession.Status.SCHEDULED,
        group__start__gt=timezone.now(),
    ).values_list("pk", flat=True):
        ledger_group_seat_refund(seat_id=seat_id)  # a deleted account's future seats
    GroupMessage.objects.filter(sender=user).update(ciphertext=b"")
    GroupSideMessage.objects.filter(client=user).update(ciphertext=b"")
    GroupSeat.objects.filter(client=user).update(
        client=None, taken_at=None, muted_at=None, muted_by=None
    )
