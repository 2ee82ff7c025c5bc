"""Bookings: creating them without ever double-booking, and their status transitions."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notices import (
    BOOKING_CANCELLED,
    BOOKING_MOVED,
    REMINDER_1H,
    REMINDER_24H,
    local_time,
)
from accounts.selectors import (
    notification_preference_for,
    quiet_hours_contain,
    quiet_hours_end_after,
)
from accounts.services import notice_send, unsubscribe_token_make
from billing.services import (
    ledger_booking_cancel,
    ledger_booking_charge,
    ledger_booking_complete,
    ledger_booking_no_show,
    ledger_booking_reprice,
)
from core.availability import (
    CounselorDay,
    contains,
    is_quarter_hour,
    local_midnight,
    merge,
    subtract,
)
from core.encryption import decrypt, encrypt, encrypt_text, rotate, rows_reencrypt
from core.exceptions import Conflict
from core.realtime import room_push, room_push_on_commit
from core.sessions import SESSION_LENGTHS, SessionMode
from counselors.models import CounselorProfile, FreeTime, FreeTimeState, Offering
from ethics.models import CrisisAlert, EthicsFlag
from ethics.services import (
    crisis_signal_record,
    flag_raise,
    risk_cues_purge,
    text_screen,
    text_screen_needed,
)
from intake.services import intake_require
from listening import tasks
from listening.models import (
    Booking,
    Feedback,
    Reminder,
    SessionMessage,
    SessionNote,
)
from listening.selectors import (
    CounselorRules,
    booking_get_for_participant,
    counselor_days,
    counselor_rules,
    message_frame,
)
from listening.signals import session_ended
from listening.voice import voice_note_inspect
from organisations.services import (
    allowance_claim,
    allowance_move_check,
    allowance_release,
    allowance_release_due,
)
from packages.models import PackagePurchase
from packages.selectors import purchase_duration_for
from packages.services import (
    package_session_amount,
    package_session_claim,
    package_session_move_check,
    package_session_pay,
    package_session_return,
)

logger = logging.getLogger(__name__)

NO_SHOW_GRACE = dt.timedelta(minutes=10)
# Clock tasks may run a moment early (eta precision); a claim accepts that much.
CLOCK_SLACK = dt.timedelta(seconds=2)


def _slot_taken() -> Conflict:
    return Conflict(_("That time is no longer free."), code="slot_taken")


def _client_overlap() -> Conflict:
    return Conflict(_("You already have a session at that time."), code="client_overlap")


def _overlap_conflict(exc: IntegrityError) -> Conflict | None:
    """Translate the exclusion constraints' violation into the 409 it stands for."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if constraint == "booking_counselor_no_overlap":
        return _slot_taken()
    if constraint == "booking_client_no_overlap":
        return _client_overlap()
    return None


def booking_create(
    *,
    client: User,
    counselor_id: int,
    start: dt.datetime,
    duration_minutes: int | None,
    mode: str,
    topic: str,
    note: str = "",
    offering_id: int | None = None,
    package_id: int | None = None,
) -> Booking:
    """Book a slot. Field problems raise ValidationError (400); a taken time raises Conflict (409).

    With `package_id` (one of the client's package purchases) the session is one of the
    package's: its length is the package's (None takes it), the purchase's credit pays, and
    packages claims the session under the purchase's row lock (409 `package_used_up`,
    `package_expired`). A booking names an offering or a package, not both (400).

    With `offering_id` the booking names one of the counselor's service offerings: its price
    is the offering's, and `duration_minutes` must be the offering's (the caller passes it, or
    None to take it from the offering) and `mode` one of its modes. An offering that is not
    this counselor's is a 400; one withdrawn or unpublished is a 409 `offering_unavailable`,
    checked again under the lock so an unpublish racing the booking cannot be booked through.

    Not atomic itself, on purpose: a time already taken (most attempts at a popular slot) is
    turned away by one indexed probe in autocommit, before any transaction, intake check or
    lock. What passes the probe is checked again in `_booking_create_locked`, under the
    counselor's profile row lock, and the exclusion constraints are the last word on overlaps
    either way, so the probe can only save work, never let a double booking through."""
    if offering_id is not None and package_id is not None:
        raise ValidationError({"package": [_("Book either an offering or a package, not both.")]})
    if offering_id is not None:
        duration_minutes = _offering_check(
            offering_id=offering_id,
            counselor_id=counselor_id,
            duration_minutes=duration_minutes,
            mode=mode,
        ).duration_minutes
    if package_id is not None and duration_minutes is None:
        duration_minutes = purchase_duration_for(client=client, purchase_id=package_id)
    if duration_minutes not in SESSION_LENGTHS:
        raise ValidationError({"duration_minutes": [_("Sessions are 15 or 30 minutes.")]})
    if not is_quarter_hour(start):
        raise ValidationError(
            {"start": [_("Sessions start on a quarter hour (:00, :15, :30, :45).")]}
        )
    now = timezone.now()
    if start <= now:
        raise ValidationError({"start": [_("That time is in the past.")]})
    end = start + dt.timedelta(minutes=duration_minutes)
    _booking_probe(counselor_id=counselor_id, client=client, start=start, end=end)
    return _booking_create_locked(
        client=client,
        counselor_id=counselor_id,
        start=start,
        end=end,
        duration_minutes=duration_minutes,
        mode=mode,
        topic=topic,
        note=note,
        now=now,
        offering_id=offering_id,
        package_id=package_id,
    )


def _offering_unavailable() -> Conflict:
    return Conflict(
        _("This offering is no longer available. Book a regular session instead."),
        code="offering_unavailable",
    )


def _offering_check(
    *,
    offering_id: int,
    counselor_id: int,
    duration_minutes: int | None,
    mode: str,
    lock: bool = False,
) -> Offering:
    """The offering a booking names, checked against the booking's fields (400 naming the
    field) and its status (409). With `lock`, its row is locked: call inside the booking's
    transaction, so a concurrent unpublish waits for the booking or is seen by it."""
    rows = Offering.objects.filter(pk=offering_id, counselor_id=counselor_id)
    if lock:
        rows = rows.select_for_update()
    offering = rows.first()
    if offering is None:
        raise ValidationError({"offering": [_("This counselor has no offering with this id.")]})
    if not offering.is_published:
        raise _offering_unavailable()
    if duration_minutes is not None and duration_minutes != offering.duration_minutes:
        raise ValidationError(
            {
                "duration_minutes": [
                    _("This offering is a %(minutes)s-minute session.")
                    % {"minutes": offering.duration_minutes}
                ]
            }
        )
    if mode not in offering.modes:
        raise ValidationError(
            {"mode": [_("This offering is not given as %(mode)s sessions.") % {"mode": mode}]}
        )
    return offering


# A booking is at most this long, so one overlapping [start, end) starts after start - this:
# the probe's index range on (counselor, start) / (client, start) stays a few rows wide.
_LONGEST_SESSION = dt.timedelta(minutes=max(SESSION_LENGTHS))


def _booking_probe(
    *, counselor_id: int, client: User, start: dt.datetime, end: dt.datetime
) -> None:
    """Conflict if the counselor (`slot_taken`) or the client (`client_overlap`) already has a
    session overlapping [start, end): one query, the exclusion constraints' condition. Only a
    shortcut for the common refusal; the buffer and everything else are checked under the lock."""
    holders = list(
        Booking.objects.filter(
            Q(counselor_id=counselor_id) | Q(client_id=client.pk),
            ~Q(status=Booking.Status.CANCELLED),
            start__lt=end,
            start__gt=start - _LONGEST_SESSION,
            end__gt=start,
        ).values_list("counselor_id", flat=True)[:2]
    )
    if counselor_id in holders:
        raise _slot_taken()
    if holders:
        raise _client_overlap()


@transaction.atomic
def _booking_create_locked(
    *,
    client: User,
    counselor_id: int,
    start: dt.datetime,
    end: dt.datetime,
    duration_minutes: int,
    mode: str,
    topic: str,
    note: str,
    now: dt.datetime,
    offering_id: int | None = None,
    package_id: int | None = None,
) -> Booking:
    """booking_create's transaction: the intake gate, then the counselor's profile row locked
    for the whole check-and-insert, which serialises bookings per counselor (so the daily cap
    and the buffer, which no constraint can express, hold under concurrency), the offering's
    row locked and checked again, the slot rules, and the insert. Precondition: the fields
    were checked by booking_create."""
    intake_require(client)  # consent + intake before the first booking: 409 intake_required
    profile = _lock_bookable_profile(counselor_id, mode=mode)
    offering = None
    if offering_id is not None:
        offering = _offering_check(
            offering_id=offering_id,
            counselor_id=counselor_id,
            duration_minutes=duration_minutes,
            mode=mode,
            lock=True,
        )
    _slot_check(profile=profile, start=start, end=end, now=now)
    purchase = funding = None
    if package_id is not None:
        # The package pays; its session is claimed here, so a booking that fails below gives
        # it back with the rollback.
        purchase = package_session_claim(
            client=client,
            purchase_id=package_id,
            counselor_id=profile.pk,
            duration_minutes=duration_minutes,
            start=start,
        )
    else:
        # The organisation's allowance pays if it covers this session; taken in this
        # transaction, so a booking that fails below gives it back with the rollback.
        funding = allowance_claim(
            client=client, duration_minutes=duration_minutes, mode=mode, at=start
        )
    return _booking_insert(
        offering=offering,
        profile=profile,
        client=client,
        start=start,
        end=end,
        duration_minutes=duration_minutes,
        mode=mode,
        topic=topic,
        note=note,
        funding=funding,
        purchase=purchase,
    )


def _slot_check(
    *,
    profile: CounselorProfile,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    exclude_booking_id: int | None = None,
) -> None:
    """[start, end) is a bookable slot of the counselor: on the quarter-hour grid (checked by
    the caller), with the notice, inside a window, clear of other sessions and the buffer, and
    under the daily cap. Call while holding the profile row lock."""
    if start < now + dt.timedelta(minutes=profile.min_notice_minutes):
        raise ValidationError(
            {
                "start": [
                    _("This counselor needs %(minutes)s minutes' notice.")
                    % {"minutes": profile.min_notice_minutes}
                ]
            }
        )
    day = counselor_days(
        profiles=[CounselorRules.of(profile)],
        start=start,
        end=end,
        now=now,
        exclude_booking_id=exclude_booking_id,
    )[profile.pk]
    if day.is_away(start, end):
        raise ValidationError({"start": [_("The counselor is away (time off) on that day.")]})
    if not contains(day.windows, start, end):
        raise ValidationError({"start": [_("That time is outside the counselor's availability.")]})
    if day.clashes(start, end):
        raise _slot_taken()
    if day.day_counts[start.astimezone(ZoneInfo(day.timezone)).date()] >= profile.daily_cap:
        raise ValidationError({"start": [_("The counselor's sessions for that day are full.")]})


def _lock_bookable_profile(counselor_id: int, *, mode: str) -> CounselorProfile:
    """Lock the counselor's profile row (serialising their bookings) if they can be booked in `mode`.

    FOR NO KEY UPDATE, as every lock of a profile row: it serialises the lockers just the same
    but lets a transaction that inserts rows referring to the profile pass its foreign-key
    check (FOR KEY SHARE). With FOR UPDATE, a free-time refresh (which holds the counselor's
    FreeTimeState row and inserts FreeTime rows) and a booking (which holds the profile and
    then marks that FreeTimeState row stale from its trigger) deadlocked: under the load
    benchmark one booking in about 150 answered 503."""
    try:
        profile = (
            CounselorProfile.objects.select_for_update(of=("self",), no_key=True)
            .select_related("user")
            .get(
                pk=counselor_id,
                verification=CounselorProfile.Verification.VERIFIED,
                is_active=True,
                user__is_active=True,
            )
        )
    except CounselorProfile.DoesNotExist:
        raise ValidationError({"counselor": [_("No bookable counselor with this id.")]}) from None
    if mode not in profile.modes:
        raise ValidationError(
            {"mode": [_("This counselor does not offer %(mode)s sessions.") % {"mode": mode}]}
        )
    return profile


def _booking_insert(
    *,
    offering: Offering | None = None,
    profile: CounselorProfile,
    client: User,
    start: dt.datetime,
    end: dt.datetime,
    duration_minutes: int,
    mode: str,
    topic: str,
    note: str,
    funding=None,
    purchase: PackagePurchase | None = None,
) -> Booking:
    """Insert the booking; the exclusion constraints turn an overlap into a 409. Call while
    holding the profile row lock. `funding` is organisations' ClaimOutcome, if one was made;
    `purchase` the package purchase a session was claimed of (its row locked)."""
    booking = Booking(
        counselor=profile,
        client=client,
        start=start,
        end=end,
        duration_minutes=duration_minutes,
        mode=mode,
        topic=topic,
        note=note,
        offering=offering,
        price=offering.price if offering is not None else profile.price_for(duration_minutes),
        allowance_claim=funding.claim if funding else None,
        allowance_refusal=funding.refusal if funding else "",
        package_purchase=purchase,
    )
    if purchase is not None:
        booking.price = package_session_amount(purchase=purchase)  # its share of the package
    _save_or_conflict(booking)
    # Paid in the booking's transaction: the ledger's rows are the payment's outbox.
    if purchase is not None:  # from the package's credit, not charged to the client
        package_session_pay(
            purchase=purchase, booking_id=booking.pk, counselor_id=profile.pk, amount=booking.price
        )
    else:
        ledger_booking_charge(
            booking_id=booking.pk,
            client_id=client.pk,
            counselor_id=profile.pk,
            amount=booking.price,
            sponsor_organisation_id=(
                booking.allowance_claim.organisation_id if booking.allowance_claim_id else None
            ),
        )
    _reminders_schedule(booking, now=timezone.now())
    return booking


def _save_or_conflict(booking: Booking, **save_kwargs) -> None:
    """Save the booking; the exclusion constraints turn an overlap into its 409 (`slot_taken`,
    `client_overlap`). No savepoint of its own: every caller is an atomic service that raises
    the Conflict straight out of its block, which rolls back (its own savepoint when nested)."""
    try:
        booking.save(**save_kwargs)
    except IntegrityError as exc:
        conflict = _overlap_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc


@transaction.atomic
def booking_start_now(
    *, client: User, counselor_id: int, duration_minutes: int, mode: str, topic: str, note: str = ""
) -> Booking:
    """A talk-now session starting at once (an accepted match offer). Windows, notice and the
    quarter-hour grid do not apply (the counselor is on duty now); the buffer, the daily cap
    and the no-overlap constraints do, exactly as for a booked slot."""
    intake_require(client)
    if duration_minutes not in SESSION_LENGTHS:
        raise ValidationError({"duration_minutes": [_("Sessions are 15 or 30 minutes.")]})
    profile = _lock_bookable_profile(counselor_id, mode=mode)
    now = timezone.now()
    start = now.replace(microsecond=0)
    end = start + dt.timedelta(minutes=duration_minutes)
    day = counselor_days(profiles=[CounselorRules.of(profile)], start=start, end=end, now=now)[
        profile.pk
    ]
    if day.clashes(start, end):
        raise Conflict(_("The counselor has another session now."), code="counselor_busy")
    if day.day_counts[start.astimezone(ZoneInfo(day.timezone)).date()] >= profile.daily_cap:
        raise Conflict(_("The counselor's sessions for today are full."), code="daily_cap")
    funding = allowance_claim(client=client, duration_minutes=duration_minutes, mode=mode, at=start)
    return _booking_insert(
        profile=profile,
        client=client,
        start=start,
        end=end,
        duration_minutes=duration_minutes,
        mode=mode,
        topic=topic,
        note=note,
        funding=funding,
    )


@transaction.atomic
def booking_cancel(*, booking_id: int, user: User, reason: str = "") -> Booking:
    """Either participant cancels before the session starts; the time becomes free again.
    A counselor's cancellation is sent to the client."""
    booking_get_for_participant(user=user, booking_id=booking_id)  # 404 unless theirs
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        raise Conflict(_("Only a confirmed booking can be cancelled."), code="not_cancellable")
    now = timezone.now()
    if now >= booking.start:
        raise Conflict(_("The session has already started."), code="already_started")
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = user
    booking.cancel_reason = reason
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    charge = ledger_booking_cancel(
        booking_id=booking.pk, by=booking.role_of(user), cancelled_at=now, start=booking.start
    )
    _package_session_back(booking, charge)
    if booking.allowance_claim_id and allowance_release_due(
        cancelled_by_client=user.pk == booking.client_id, start=booking.start, at=now
    ):
        allowance_release(claim_id=booking.allowance_claim_id)
    _reminders_withdraw(booking)
    notice_send(
        user=_other_participant(booking, user),
        kind=BOOKING_CANCELLED,
        params={"booking_id": booking.pk, "start": booking.start.isoformat()},
        url=reverse("listening:booking-list"),
    )
    tasks.booking_cancelled_notify.delay_on_commit(booking.pk)
    return booking


@transaction.atomic
def booking_reschedule(
    *,
    booking_id: int,
    user: User,
    start: dt.datetime,
    duration_minutes: int | None = None,
    reason: str = "",
) -> Booking:
    """Move a confirmed booking to another free slot of the same counselor, in one
    transaction: the new time passes the same checks as a new booking (windows, notice, buffer,
    daily cap, both exclusion constraints) and the old time is free at once. The client may
    move it, or the counselor with a reason, until the counselor's cut-off before the old
    start (409 `cutoff_passed`). The other side is told; the calendar export keeps its UID and
    raises its SEQUENCE."""
    booking = booking_get_for_participant(user=user, booking_id=booking_id)  # 404 unless theirs
    by_counselor = booking.role_of(user) == Booking.Party.COUNSELOR
    duration_minutes = duration_minutes or booking.duration_minutes
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if duration_minutes not in SESSION_LENGTHS:
        errors["duration_minutes"] = [_("Sessions are 15 or 30 minutes.")]
    elif booking.offering_id is not None and duration_minutes != booking.duration_minutes:
        # The offering fixed the length and the price when it was booked.
        errors["duration_minutes"] = [
            _("This session was booked as an offering: its length cannot change.")
        ]
    elif booking.package_purchase_id is not None and duration_minutes != booking.duration_minutes:
        errors["duration_minutes"] = [
            _("This session is one of a package: its length cannot change.")
        ]
    if not is_quarter_hour(start):
        errors["start"] = [_("Sessions start on a quarter hour (:00, :15, :30, :45).")]
    if by_counselor and not reason:
        errors["reason"] = [_("Tell the client why the session moves.")]
    if len(reason) > 500:
        errors["reason"] = [_("Keep the reason to 500 characters.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    if start <= now:
        raise ValidationError({"start": [_("That time is in the past.")]})
    # The profile lock first, as every booking does (one order, no deadlock), then the booking.
    profile = _lock_bookable_profile(booking.counselor_id, mode=booking.mode)
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        raise Conflict(_("Only a confirmed booking can be moved."), code="not_reschedulable")
    cutoff = booking.start - dt.timedelta(minutes=profile.reschedule_cutoff_minutes)
    if now >= cutoff:
        raise Conflict(
            _(
                "This session can no longer be moved: the counselor's cut-off is %(minutes)s "
                "minutes before it starts."
            )
            % {"minutes": profile.reschedule_cutoff_minutes},
            code="cutoff_passed",
        )
    end = start + dt.timedelta(minutes=duration_minutes)
    if (start, end) == (booking.start, booking.end):
        raise ValidationError({"start": [_("That is the time the session already has.")]})
    _slot_check(profile=profile, start=start, end=end, now=now, exclude_booking_id=booking.pk)
    old_start = booking.start
    booking.start, booking.end, booking.duration_minutes = start, end, duration_minutes
    if booking.allowance_claim_id is not None:
        allowance_move_check(
            claim_id=booking.allowance_claim_id, duration_minutes=duration_minutes, at=start
        )
    if booking.package_purchase_id is not None:
        package_session_move_check(purchase_id=booking.package_purchase_id, start=start)
    elif booking.offering_id is None:
        booking.price = profile.price_for(duration_minutes)
    booking.ics_sequence += 1
    # Joining and the clock count from the new time.
    booking.client_joined_at = booking.counselor_joined_at = booking.warning_sent_at = None
    _save_or_conflict(
        booking,
        update_fields=[
            "start",
            "end",
            "duration_minutes",
            "price",
            "ics_sequence",
            "client_joined_at",
            "counselor_joined_at",
            "warning_sent_at",
        ],
    )
    ledger_booking_reprice(booking_id=booking.pk, amount=booking.price)  # a new length's price
    # The reminders of the old time go, those of the new time come, in this transaction.
    _reminders_withdraw(booking)
    _reminders_schedule(booking, now=now)
    notice_send(
        user=_other_participant(booking, user),
        kind=BOOKING_MOVED,
        params={
            "booking_id": booking.pk,
            "start": booking.start.isoformat(),
            "old_start": old_start.isoformat(),
        },
        url=reverse("listening:session-room", args=[booking.pk]),
    )
    tasks.booking_rescheduled_notify.delay_on_commit(
        booking.pk, user.pk, old_start.isoformat(), reason
    )
    return booking


@transaction.atomic
def booking_complete(*, booking_id: int) -> Booking:
    """Mark a confirmed session completed once its end has passed."""
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        raise Conflict(_("Only a confirmed booking can be completed."), code="not_completable")
    if timezone.now() < booking.end:
        raise Conflict(_("The session has not ended yet."), code="not_ended")
    booking.status = Booking.Status.COMPLETED
    booking.completed_at = timezone.now()
    booking.save(update_fields=["status", "completed_at"])
    ledger_booking_complete(booking_id=booking.pk)
    return booking


@transaction.atomic
def booking_mark_no_show(*, booking_id: int, party: str) -> Booking:
    """Record that `party` (client or counselor) never joined, from 10 minutes after the start."""
    if party not in Booking.Party.values:
        raise ValidationError({"party": [_("Choose client or counselor.")]})
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        raise Conflict(_("Only a confirmed booking can become a no-show."), code="not_confirmed")
    if timezone.now() < booking.start + NO_SHOW_GRACE:
        raise Conflict(_("It is too early to call a no-show."), code="too_early")
    booking.status = Booking.Status.NO_SHOW
    booking.no_show_party = party
    booking.save(update_fields=["status", "no_show_party"])
    _no_show_allowance(booking)
    _package_session_back(booking, ledger_booking_no_show(booking_id=booking.pk, absent=party))
    return booking


def _no_show_allowance(booking: Booking) -> None:
    """A session the counselor did not come to goes back to the allowance (alone or with the
    client: the client cannot have had it); the client's own no-show uses it up."""
    if booking.allowance_claim_id and booking.no_show_party in (
        Booking.Party.COUNSELOR,
        Booking.Party.BOTH,
    ):
        allowance_release(claim_id=booking.allowance_claim_id)


def _package_session_back(booking: Booking, charge) -> None:
    """A package session whose charge the refund policy gave back (a cancellation in time,
    the counselor's cancellation or no-show) returns to its purchase; one the client
    cancelled late or did not come to stays used. The ledger decided; this follows it."""
    if booking.package_purchase_id and charge is not None and charge.status == "refunded":
        package_session_return(purchase_id=booking.package_purchase_id)


def _other_participant(booking: Booking, user: User) -> User:
    return booking.client if user.pk == booking.counselor_id else booking.counselor.user


# --- Reminders ----------------------------------------------------------------------------------
#
# Each reminder is an outbox row (listening.models.Reminder) written in the transaction of the
# booking change it follows, so it exists exactly when the booking's time does. Delivery is in
# two short transactions per row:
#
# 1. the claim: the oldest due row (pending and due, or `sending` with its lease run out) is
#    locked with SKIP LOCKED, set to `sending` with claimed_at and attempts + 1, and committed;
# 2. the delivery: the row is locked again (while it is locked no one can take it back), the
#    booking and the recipient's preferences are read, the in-page notice is written and the
#    e-mail handed to the mail server, and the row is marked `sent` (or `skipped`, or back to
#    `pending` for the end of the quiet hours) in that same transaction.
#
# A worker killed before the commit of step 2 leaves the row `sending`: its transaction (and
# the notice in it) is rolled back by PostgreSQL when the connection drops, and the row is
# claimed again once its lease (REMINDER_LEASE_SECONDS) is over, so nothing is lost. Nothing
# is repeated either, except in one window no outbox can close: the mail server has accepted
# the e-mail and the worker dies before the commit. Such a second copy carries the same
# Message-ID (one per row), which mail clients use to fold duplicates.

REMINDER_OFFSETS = {
    Reminder.Kind.DAY_BEFORE: dt.timedelta(hours=24),
    Reminder.Kind.HOUR_BEFORE: dt.timedelta(hours=1),
}
REMINDER_NOTICES = {Reminder.Kind.DAY_BEFORE: REMINDER_24H, Reminder.Kind.HOUR_BEFORE: REMINDER_1H}
REMINDER_LIVE = [Reminder.Status.PENDING, Reminder.Status.SENDING]
EMAIL, IN_PAGE = "email", "in_page"


def _reminders_schedule(booking: Booking, *, now: dt.datetime) -> list[Reminder]:
    """The 24 h and 1 h reminders of the booking's current time for both participants, under
    its current `ics_sequence`; a kind whose time has already passed (talk now, a booking made
    three hours ahead has no day-before one) is not scheduled. Call in the booking's transaction."""
    rows = [
        Reminder(
            booking=booking,
            recipient_id=recipient_id,
            kind=kind,
            sequence=booking.ics_sequence,
            due_at=booking.start - offset,
        )
        for kind, offset in REMINDER_OFFSETS.items()
        if booking.start - offset > now
        # The counselor profile's primary key is its user's.
        for recipient_id in (booking.client_id, booking.counselor_id)
    ]
    return Reminder.objects.bulk_create(rows)


def _reminders_withdraw(booking: Booking) -> int:
    """Withdraw the booking's reminders not yet sent. One being delivered right now holds its
    row lock, so this waits for that delivery to finish. Call in the booking's transaction."""
    return Reminder.objects.filter(booking=booking, status__in=REMINDER_LIVE).update(
        status=Reminder.Status.WITHDRAWN
    )


def reminders_send_due(
    *, now: dt.datetime | None = None, limit: int = 500, budget_seconds: float = 25.0
) -> int:
    """The beat task's work: deliver due reminders one by one until none is left, `limit` were
    handled or `budget_seconds` passed (the next tick goes on; ticks overlapping are harmless,
    SKIP LOCKED gives each row to one of them). `now` is for tests; it defaults to the clock.
    Returns how many rows were handled."""
    handled = 0
    deadline = time.monotonic() + budget_seconds
    while handled < limit and time.monotonic() < deadline:
        moment = now or timezone.now()
        claimed = _reminder_claim(now=moment)
        if claimed is None:
            break
        handled += 1
        if claimed is False:
            continue
        try:
            reminder_deliver(reminder_id=claimed, now=moment)
        except Exception:
            # The delivery rolled back; the row stays `sending` and is tried again after its lease.
            logger.exception("reminder %s: delivery failed, retried after the lease", claimed)
    return handled


@transaction.atomic
def _reminder_claim(*, now: dt.datetime) -> int | bool | None:
    """Claim the oldest due reminder: its id, False if it was given up (too many attempts), or
    None when nothing is due."""
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    reminder = (
        Reminder.objects.select_for_update(skip_locked=True)
        .filter(
            Q(status=Reminder.Status.PENDING, due_at__lte=now)
            | Q(status=Reminder.Status.SENDING, claimed_at__lt=now - lease)
        )
        .order_by("due_at", "pk")
        .first()
    )
    if reminder is None:
        return None
    if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        reminder.status = Reminder.Status.SKIPPED
        reminder.save(update_fields=["status"])
        logger.error("reminder %s: given up after %s attempts", reminder.pk, reminder.attempts)
        return False
    reminder.status = Reminder.Status.SENDING
    reminder.claimed_at = now
    reminder.attempts += 1
    reminder.save(update_fields=["status", "claimed_at", "attempts"])
    return reminder.pk


@transaction.atomic
def reminder_deliver(*, reminder_id: int, now: dt.datetime | None = None) -> str:
    """Deliver one claimed (`sending`) reminder under its row lock and record the outcome in
    the same transaction: "sent" (at least one channel), "skipped" (the booking is no longer
    confirmed or has started, the user turned this reminder or every channel off, or it is
    too late), "deferred" (back to pending until the recipient's quiet hours end), or "" when
    the row is no longer `sending` (delivered or withdrawn meanwhile).

    The in-page notice appears at the reminder's time even in quiet hours (it makes no sound);
    the e-mail waits for the end of the quiet hours if that is still before the session (for
    the day-before reminder: before the hour-before one), else it is left out. `channels`
    records what went, so a deferred reminder never leaves its notice twice."""
    now = now or timezone.now()
    recipient_id = (
        Reminder.objects.filter(pk=reminder_id).values_list("recipient_id", flat=True).first()
    )
    if recipient_id is None:
        return ""
    # The recipient's row first, as deleting or suspending an account locks it first and then
    # withdraws its reminders: the same order, so the two never deadlock. KEY SHARE (which
    # Django's ORM cannot ask for) waits only for such a lock, never for a profile change or
    # a sign-in, and is what the notice's foreign key takes anyway.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {User._meta.db_table} WHERE id = %s FOR KEY SHARE", [recipient_id]
        )
    reminder = (
        Reminder.objects.select_for_update(of=("self",))
        .select_related("booking", "recipient")
        .filter(pk=reminder_id, status=Reminder.Status.SENDING)
        .first()
    )
    if reminder is None:
        return ""
    booking, recipient = reminder.booking, reminder.recipient
    done = list(reminder.channels)
    pref = notification_preference_for(user=recipient)
    wanted = pref.remind_24h if reminder.kind == Reminder.Kind.DAY_BEFORE else pref.remind_1h
    # The day-before reminder is stale once the hour-before one is due.
    latest = booking.start - (
        REMINDER_OFFSETS[Reminder.Kind.HOUR_BEFORE]
        if reminder.kind == Reminder.Kind.DAY_BEFORE
        else dt.timedelta(0)
    )
    if (
        booking.status != Booking.Status.CONFIRMED
        or booking.ics_sequence != reminder.sequence
        or now >= latest
        or not recipient.is_active
        or not wanted
    ):
        return _reminder_finish(reminder, done, now=now)
    if pref.in_page_reminders and IN_PAGE not in done:
        notice_send(
            user=recipient,
            kind=REMINDER_NOTICES[reminder.kind],
            params={
                "booking_id": booking.pk,
                "start": booking.start.isoformat(),
                "minutes": booking.duration_minutes,
            },
            url=reverse("listening:session-room", args=[booking.pk]),
        )
        done.append(IN_PAGE)
    if pref.email_reminders and recipient.email and EMAIL not in done:
        zone = ZoneInfo(recipient.timezone)
        if not quiet_hours_contain(pref, now, zone):
            _reminder_email(reminder, booking, recipient).send()
            done.append(EMAIL)
        elif (quiet_end := quiet_hours_end_after(pref, now, zone)) < latest:
            reminder.status = Reminder.Status.PENDING
            reminder.due_at, reminder.channels = quiet_end, done
            reminder.save(update_fields=["status", "due_at", "channels"])
            return "deferred"
    return _reminder_finish(reminder, done, now=now)


def _reminder_finish(reminder: Reminder, done: list[str], *, now: dt.datetime) -> str:
    reminder.channels = done
    if done:
        reminder.status, reminder.sent_at = Reminder.Status.SENT, now
    else:
        reminder.status = Reminder.Status.SKIPPED
    reminder.save(update_fields=["status", "sent_at", "channels"])
    return reminder.status


def reminder_message_id(reminder: Reminder) -> str:
    """One Message-ID per reminder row: a copy sent twice (see above) is the same message."""
    domain = urlsplit(settings.PIANKE_SITE_URL).hostname or "pianke.local"
    return f"<reminder-{reminder.pk}-{reminder.booking_id}-{reminder.sequence}@{domain}>"


def _reminder_email(reminder: Reminder, booking: Booking, recipient: User) -> EmailMessage:
    """The reminder e-mail in the recipient's language, the time in their zone; it names the
    length and mode, never the topic or the note. A link opens the session; List-Unsubscribe
    (RFC 2369) with List-Unsubscribe-Post (RFC 8058) turns reminder e-mails off in one click."""
    site = settings.PIANKE_SITE_URL
    link = site + reverse("listening:session-room", args=[booking.pk])
    unsubscribe = site + reverse(
        "accounts:unsubscribe", args=[unsubscribe_token_make(user=recipient)]
    )
    with translation.override(recipient.language):
        if reminder.kind == Reminder.Kind.DAY_BEFORE:
            subject = _("Reminder: your Pianke session is tomorrow")
        else:
            subject = _("Reminder: your Pianke session starts in an hour")
        body = _(
            "Your %(minutes)s-minute session (%(mode)s) starts on %(when)s.\n\n"
            "Open it: %(link)s\n\n"
            "If you cannot come, please cancel or move it on Pianke so the time is free "
            "for someone else.\n\n"
            "To stop reminder e-mails: %(unsubscribe)s"
        ) % {
            "minutes": booking.duration_minutes,
            "mode": SessionMode(booking.mode).label,
            "when": local_time(booking.start, ZoneInfo(recipient.timezone)),
            "link": link,
            "unsubscribe": unsubscribe,
        }
    return EmailMessage(
        subject=subject,
        body=body,
        to=[recipient.email],
        headers={
            "Message-ID": reminder_message_id(reminder),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


# --- The live session and async messages ---------------------------------------------------


def _room_window(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    return booking.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES), booking.end


def _async_window(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    """Async messages: an async-mode booking from the moment it is made, any other booking
    from 24 hours before its session; every booking until 24 hours after its end."""
    margin = dt.timedelta(hours=settings.ASYNC_MESSAGE_HOURS)
    opens = booking.created_at if booking.mode == SessionMode.ASYNC else booking.start - margin
    return min(opens, booking.start - margin), booking.end + margin


def room_join(*, booking_id: int, user: User) -> None:
    """Note the first time each participant enters the room (for the no-show check)."""
    booking = Booking.objects.only("client_id", "counselor_id").get(pk=booking_id)
    field = (
        "client_joined_at"
        if booking.role_of(user) == Booking.Party.CLIENT
        else "counselor_joined_at"
    )
    Booking.objects.filter(pk=booking_id, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )


def message_post(
    *,
    booking_id: int,
    sender: User,
    uid: uuid.UUID,
    text: str = "",
    live: bool,
    audio=None,
    notify: bool = True,
) -> tuple[SessionMessage, bool]:
    """Store a chat line (live, from the room) or an async text or voice note; returns
    (message, created). Resending a uid returns the stored message, created=False, and
    stores nothing. With `notify` the message is pushed to the room after commit; the room's
    consumer passes False and sends it itself once this returns (committed).

    Atomic either way: a live text line that the screen is certain to pass untouched is one
    statement (`_message_insert_quiet`, its own transaction), everything else one
    transaction holding the booking's row lock (`_message_post_locked`); both store the same
    row, and every refusal, resend and screened line is decided by the locked path alone.
    docs/realtime.md, "The chat line's fast path", says why the two agree."""
    if live and audio is None:
        message = _message_insert_quiet(booking_id=booking_id, sender=sender, uid=uid, text=text)
        if message is not None:
            if notify:
                room_push_on_commit(booking_id, message_frame(message, text=message.text))
            return message, True
    return _message_post_locked(
        booking_id=booking_id,
        sender=sender,
        uid=uid,
        text=text,
        live=live,
        audio=audio,
        notify=notify,
    )


# One statement, so one round trip and its own transaction: the booking row is numbered and
# locked by the UPDATE (the per-booking counter, `message_seq`), the room's rules are its
# WHERE (a participant, confirmed, not ended, start - opens <= now < end), a uid already
# stored matches nothing, and the INSERT takes the number. The unique constraints stay the
# guards: a concurrent resend of the same uid fails the INSERT, which undoes the UPDATE.
_QUIET_INSERT = """
WITH numbered AS (
    UPDATE listening_booking SET message_seq = message_seq + 1
     WHERE id = %(booking)s
       AND (client_id = %(sender)s OR counselor_id = %(sender)s)
       AND status = %(confirmed)s AND ended_at IS NULL
       AND start <= %(opens_until)s AND "end" > %(now)s
       AND NOT EXISTS (
           SELECT 1 FROM listening_sessionmessage WHERE booking_id = %(booking)s AND uid = %(uid)s
       )
 RETURNING id, message_seq
)
INSERT INTO listening_sessionmessage
    (booking_id, seq, uid, sender_id, kind, ciphertext, audio, audio_content_type, sent_at)
SELECT id, message_seq, %(uid)s, %(sender)s, %(kind)s, %(ciphertext)s, '', '', %(now)s
  FROM numbered
RETURNING id, seq
"""


def _message_insert_quiet(
    *, booking_id: int, sender: User, uid: uuid.UUID, text: str
) -> SessionMessage | None:
    """The live chat line in one statement, when nothing about it needs more: the text is
    valid and the screen is certain to pass it untouched (`ethics.services.text_screen_needed`
    is False: no crisis signal, no conversation cue, the learned one included, no contact
    details), so `text_screen` would write nothing in the storing transaction. Returns the
    stored message (with `text`, the stripped plaintext, and `crisis_alert` None), or None to
    take the locked path, which then decides exactly as before: any rule not met (refused
    there with its error), a resent uid (returned there), or text the screen has something
    to say about. Outside a transaction this is autocommit; inside one (tests, callers) it
    runs in a savepoint."""
    text = text.strip()
    if not text or len(text) > settings.CHAT_MAX_CHARS or text_screen_needed(text):
        return None
    now = timezone.now()
    ciphertext = encrypt_text(text)
    params = {
        "booking": booking_id,
        "sender": sender.id,
        "confirmed": Booking.Status.CONFIRMED,
        "opens_until": now + dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES),
        "now": now,
        "uid": uid,
        "kind": SessionMessage.Kind.TEXT,
        "ciphertext": ciphertext,
    }
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(_QUIET_INSERT, params)
            row = cursor.fetchone()
    except IntegrityError:  # the same uid stored meanwhile: the locked path returns it
        return None
    if row is None:
        return None
    message = SessionMessage(
        pk=row[0],
        booking_id=booking_id,
        seq=row[1],
        uid=uid,
        sender=sender,
        kind=SessionMessage.Kind.TEXT,
        ciphertext=ciphertext,
        sent_at=now,
    )
    message.text, message.crisis_alert = text, None  # transient, for the caller
    return message


@transaction.atomic
def _message_post_locked(
    *,
    booking_id: int,
    sender: User,
    uid: uuid.UUID,
    text: str,
    live: bool,
    audio,
    notify: bool,
) -> tuple[SessionMessage, bool]:
    """`message_post` in one transaction holding the booking's row lock, which the
    conversation-level screening relies on (ethics.services.text_screen)."""
    # The client comes in the same query (text_screen needs them), locked only the booking row.
    booking = (
        Booking.objects.select_related("client").select_for_update(of=("self",)).get(pk=booking_id)
    )
    if not booking.is_participant(sender):
        raise Booking.DoesNotExist
    existing = SessionMessage.objects.filter(booking=booking, uid=uid).first()
    if existing is not None:
        if existing.sender_id != sender.id:
            raise Conflict(_("This message id is already in use."), code="duplicate_id")
        return existing, False
    now = timezone.now()
    opens, closes = _room_window(booking) if live else _async_window(booking)
    open_statuses = (
        [Booking.Status.CONFIRMED]
        if live
        else [Booking.Status.CONFIRMED, Booking.Status.COMPLETED, Booking.Status.NO_SHOW]
    )
    if (
        booking.status not in open_statuses
        or not opens <= now < closes
        or (live and booking.ended_at)
    ):
        raise Conflict(_("Messages cannot be sent to this session now."), code="session_closed")
    text = text.strip()
    if audio is None and not text:
        raise ValidationError({"text": [_("Write something first.")]})
    if len(text) > settings.CHAT_MAX_CHARS:
        raise ValidationError(
            {"text": [_("A message is at most %(n)s characters.") % {"n": settings.CHAT_MAX_CHARS}]}
        )
    note = voice_note_inspect(audio) if audio is not None else None
    booking.message_seq += 1
    booking.save(update_fields=["message_seq"])
    message = SessionMessage(
        booking=booking,
        seq=booking.message_seq,
        uid=uid,
        sender=sender,
        sent_at=now,
        ciphertext=encrypt_text(text) if text else b"",
    )
    if note is not None:
        message.kind = SessionMessage.Kind.VOICE
        message.audio_content_type, message.audio_seconds = note.content_type, note.seconds
        message.audio.save("voice-note", ContentFile(encrypt(audio.read())), save=False)
    message.save()
    # Transient, for the caller: the page shows the client the crisis resources at once.
    # Platform rules forbid moving clients off-platform, in either direction: contact details
    # in a message raise a flag too.
    message.crisis_alert = text_screen(
        text=text,
        client=booking.client,
        booking=booking,
        source=CrisisAlert.Source.CHAT if live else CrisisAlert.Source.MESSAGE,
        reason_prefix=f"{booking.role_of(sender)}: ",
        shared_by=booking.role_of(sender),
        where=f"message {message.seq}",
        message_ref=message,
    )
    if notify:
        frame = message_frame(message, text=text)
        room_push_on_commit(booking.pk, frame)
    return message, True


def message_audio_read(*, message: SessionMessage) -> bytes:
    with message.audio.open("rb") as f:
        return decrypt(f.read())


# --- The session clock -----------------------------------------------------------------------


def session_warn(*, booking_id: int) -> bool:
    """Send `session.warning` once, in the last two minutes of a confirmed session."""
    now = timezone.now()
    warning = dt.timedelta(seconds=settings.SESSION_WARNING_SECONDS)
    booking = Booking.objects.only("end").get(pk=booking_id)
    if not booking.end - warning - CLOCK_SLACK <= now < booking.end:
        return False
    claimed = Booking.objects.filter(
        pk=booking_id, status=Booking.Status.CONFIRMED, warning_sent_at__isnull=True
    ).update(warning_sent_at=now)
    if claimed:
        remaining = max(0, round((booking.end - now).total_seconds()))
        room_push(
            booking_id,
            {
                "type": "session.warning",
                "remaining_seconds": remaining,
                "end": booking.end.isoformat(),
            },
        )
    return bool(claimed)


@transaction.atomic
def session_end(*, booking_id: int) -> bool:
    """At the end: complete the booking, close the room to chat, tell both sides (once)."""
    now = timezone.now()
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if (
        booking.ended_at
        or now < booking.end - CLOCK_SLACK
        or booking.status == Booking.Status.CANCELLED
    ):
        return False
    booking.ended_at = now
    fields = ["ended_at"]
    if booking.status == Booking.Status.CONFIRMED:
        booking.status, booking.completed_at = Booking.Status.COMPLETED, now
        fields += ["status", "completed_at"]
    booking.save(update_fields=fields)
    if booking.status == Booking.Status.COMPLETED:
        ledger_booking_complete(booking_id=booking_id)  # a no-op once settled
    room_push_on_commit(booking_id, {"type": "session.ended", "status": booking.status})
    # Listening does not know who cares that a counselor is free again (matching does).
    counselor_id = booking.counselor_id
    transaction.on_commit(
        lambda: session_ended.send(sender=Booking, booking_id=booking_id, counselor_id=counselor_id)
    )
    return True


@transaction.atomic
def session_no_show_check(*, booking_id: int) -> str:
    """Ten minutes after the start: whoever never joined is recorded as a no-show, and both
    sides are told. Returns the party ("client", "counselor", "both") or "" if all came."""
    now = timezone.now()
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.no_show_checked_at or now < booking.start + NO_SHOW_GRACE - CLOCK_SLACK:
        return ""
    booking.no_show_checked_at = now
    fields = ["no_show_checked_at"]
    absent = [
        p
        for p, joined in (
            (Booking.Party.CLIENT, booking.client_joined_at),
            (Booking.Party.COUNSELOR, booking.counselor_joined_at),
        )
        if joined is None
    ]
    party = ""
    if booking.status == Booking.Status.CONFIRMED and absent:
        party = absent[0] if len(absent) == 1 else Booking.Party.BOTH
        booking.status, booking.no_show_party = Booking.Status.NO_SHOW, party
        fields += ["status", "no_show_party"]
    booking.save(update_fields=fields)
    if party:
        _no_show_allowance(booking)
        _package_session_back(booking, ledger_booking_no_show(booking_id=booking_id, absent=party))
    if party:
        room_push_on_commit(booking_id, {"type": "session.no_show", "party": party})
        tasks.booking_no_show_notify.delay_on_commit(booking_id)
    return party


def session_clock_due(
    *, now: dt.datetime, lookahead: dt.timedelta
) -> list[tuple[str, int, dt.datetime]]:
    """Clock events falling due before now + lookahead: (event, booking_id, when). Overdue
    ones are included, so an event whose task was lost is found again on the next tick."""
    horizon = now + lookahead
    warning = dt.timedelta(seconds=settings.SESSION_WARNING_SECONDS)
    due: list[tuple[str, int, dt.datetime]] = []
    confirmed = Booking.objects.filter(status=Booking.Status.CONFIRMED)
    for pk, end in confirmed.filter(
        warning_sent_at__isnull=True, end__gt=now, end__lte=horizon + warning
    ).values_list("pk", "end"):
        due.append(("warn", pk, end - warning))
    for pk, end in Booking.objects.filter(
        status__in=[Booking.Status.CONFIRMED, Booking.Status.NO_SHOW],
        ended_at__isnull=True,
        end__lte=horizon,
    ).values_list("pk", "end"):
        due.append(("end", pk, end))
    for pk, start in confirmed.filter(
        no_show_checked_at__isnull=True, start__lte=horizon - NO_SHOW_GRACE
    ).values_list("pk", "start"):
        due.append(("no_show", pk, start + NO_SHOW_GRACE))
    return due


# --- Retention ----------------------------------------------------------------------------------


def session_content_purge(*, now: dt.datetime | None = None, batch: int = 50) -> int:
    """Delete the messages and voice notes of sessions that ended more than RETENTION_DAYS
    ago, except bookings under an ethics hold. Returns how many bookings were purged."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            bookings = list(
                Booking.objects.select_for_update(skip_locked=True)
                .filter(end__lt=cutoff, ethics_hold=False, content_purged_at__isnull=True)
                .order_by("end")[:batch]
            )
            if not bookings:
                return purged
            files = [
                m.audio.name
                for m in SessionMessage.objects.filter(booking__in=bookings).exclude(audio="")
            ]
            SessionMessage.objects.filter(booking__in=bookings).delete()
            SessionNote.objects.filter(
                booking__in=bookings
            ).delete()  # the counselor's notes are content too
            risk_cues_purge(booking_ids=[b.pk for b in bookings])  # derived from the messages
            Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
                content_purged_at=timezone.now()
            )
            transaction.on_commit(
                lambda files=files: [default_storage.delete(name) for name in files]
            )
            purged += len(bookings)


def session_content_reencrypt(*, batch: int = 200) -> tuple[int, int]:
    """Re-encrypt all stored messages, voice notes and counselors' notes under the newest key.
    Safe to run while the service is up (each batch is one transaction over locked rows) and
    to re-run. Returns (messages and notes, files)."""
    messages = files = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                SessionMessage.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch]
            )
            if not rows:
                return messages + _session_notes_reencrypt(batch=batch), files
            for message in rows:
                if message.ciphertext:
                    message.ciphertext = rotate(message.ciphertext)
                    messages += 1
                if message.audio:
                    old_name = message.audio.name
                    with message.audio.open("rb") as f:
                        token = f.read()
                    # A new file first; the old one goes only once the row points at the new.
                    message.audio.save("voice-note", ContentFile(rotate(token)), save=False)
                    transaction.on_commit(lambda name=old_name: default_storage.delete(name))
                    files += 1
            SessionMessage.objects.bulk_update(rows, ["ciphertext", "audio"])
            last_pk = rows[-1].pk


def _session_notes_reencrypt(*, batch: int) -> int:
    return rows_reencrypt(SessionNote.objects.exclude(ciphertext=b""), ["ciphertext"], batch=batch)


# --- Feedback ----------------------------------------------------------------------------------

QUALITY_RUN = 3  # this many ratings of 1 in a row open a quality flag


@transaction.atomic
def feedback_submit(
    *,
    client: User,
    booking_id: int,
    pre_distress: int,
    post_distress: int,
    rating: int,
    comment: str = "",
) -> Feedback:
    """The client rates a session once, after it. Updates the counselor's rating; three ratings
    of 1 in a row open a `quality` ethics flag for review."""
    booking = Booking.objects.select_for_update().get(pk=booking_id, client=client)
    if (
        booking.status not in (Booking.Status.CONFIRMED, Booking.Status.COMPLETED)
        or timezone.now() < booking.end
    ):
        raise Conflict(
            _("Feedback is given after a session that took place."), code="not_after_session"
        )
    if Feedback.objects.filter(booking=booking).exists():
        raise Conflict(_("You already gave feedback on this session."), code="feedback_given")
    errors = {}
    for name, value, low, high in (
        ("pre_distress", pre_distress, 0, 10),
        ("post_distress", post_distress, 0, 10),
        ("rating", rating, 1, 5),
    ):
        if not low <= value <= high:
            errors[name] = [
                _("Give a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
    if errors:
        raise ValidationError(errors)
    feedback = Feedback.objects.create(
        booking=booking,
        pre_distress=pre_distress,
        post_distress=post_distress,
        rating=rating,
        comment=comment,
    )
    text_screen(
        text=comment,
        client=client,
        booking=booking,  # the booking row is locked above
        source=CrisisAlert.Source.MESSAGE,
        reason_prefix="feedback: ",
    )
    profile = CounselorProfile.objects.select_for_update(no_key=True).get(pk=booking.counselor_id)
    ratings = Feedback.objects.filter(booking__counselor=profile)
    profile.review_count = ratings.count()
    profile.rating = round(
        sum(r for r in ratings.values_list("rating", flat=True)) / profile.review_count, 2
    )
    profile.save(update_fields=["review_count", "rating", "updated_at"])
    latest = list(
        ratings.order_by("-created_at", "-pk").values_list("rating", flat=True)[:QUALITY_RUN]
    )
    if (
        len(latest) == QUALITY_RUN
        and all(r == 1 for r in latest)
        and not EthicsFlag.objects.filter(kind=EthicsFlag.Kind.QUALITY, counselor=profile)
        .exclude(status=EthicsFlag.Status.RESOLVED)
        .exists()
    ):
        flag_raise(
            kind=EthicsFlag.Kind.QUALITY,
            counselor_id=profile.pk,
            booking=booking,
            summary=f"{QUALITY_RUN} ratings of 1 in a row",
        )
    return feedback


# --- A crisis raised by hand --------------------------------------------------------------------


@transaction.atomic
def crisis_raise(*, counselor: User, booking_id: int, note: str) -> CrisisAlert:
    """A counselor raises a crisis by hand on one of their own sessions (404 for any other)."""
    booking = Booking.objects.select_for_update().get(pk=booking_id, counselor_id=counselor.pk)
    return crisis_signal_record(
        client=booking.client,
        booking=booking,
        source=CrisisAlert.Source.COUNSELOR,
        reasons=["raised by the counselor"],
        raised_by=counselor,
        note=note,
    )


# --- The counselor's private notes -------------------------------------------------------------

NOTE_MAX_CHARS = 20000


@transaction.atomic
def session_note_save(
    *, booking_id: int, counselor: User, text: str, revision: int | None = None
) -> SessionNote:
    """Save the counselor's private notes on one of their own sessions (the whole document;
    the room autosaves it). `revision` is the one the writer started from: if another window
    saved since, Conflict `note_changed` and nothing is overwritten (None skips the check).
    Only the session's counselor may write (anyone else: Booking.DoesNotExist, a 404)."""
    booking = Booking.objects.select_for_update().get(pk=booking_id, counselor_id=counselor.pk)
    if booking.status == Booking.Status.CANCELLED:
        raise Conflict(_("A cancelled session has no notes."), code="booking_cancelled")
    if booking.content_purged_at is not None:
        raise Conflict(
            _("This session's content was deleted after the retention period."),
            code="content_purged",
        )
    if len(text) > NOTE_MAX_CHARS:
        raise ValidationError(
            {"text": [_("Notes are at most %(n)s characters.") % {"n": NOTE_MAX_CHARS}]}
        )
    note = SessionNote.objects.select_for_update().filter(booking=booking).first()
    if note is None:
        note = SessionNote(booking=booking, author=counselor)
    elif revision is not None and revision != note.revision:
        raise Conflict(
            _("These notes were changed in another window. Reload to see the latest version."),
            code="note_changed",
        )
    note.ciphertext = encrypt_text(text) if text else b""
    note.revision += 1
    note.save()
    return note


# --- Account deletion: this app's eraser ------------------------------------------------------


def user_bookings_erase(*, user: User) -> None:
    """Listening's part of deleting an account: future sessions are cancelled (the other side
    is told) and the session content (messages, voice notes, counselors' notes) of the user's
    bookings is erased, except bookings under an ethics hold. Call inside the deletion's
    transaction."""
    mine = Q(client=user) | Q(counselor_id=user.pk)
    for booking_id in Booking.objects.filter(
        mine, status=Booking.Status.CONFIRMED, start__gt=timezone.now()
    ).values_list("pk", flat=True):
        booking_cancel(booking_id=booking_id, user=user, reason="account deleted")
    held = Q(booking__client=user) | Q(booking__counselor_id=user.pk)
    SessionMessage.objects.filter(held, booking__ethics_hold=False).delete()
    SessionNote.objects.filter(held, booking__ethics_hold=False).delete()


# The precomputed free time (counselors.models.FreeTime) covers slot starts from now to this
# far ahead; the directory computes a longer range live.
FREE_TIME_DAYS = 35
# A counselor's rows are recomputed this long before their horizon runs out, so that a range
# ending up to FREE_TIME_DAYS - FREE_TIME_RENEW ahead is always covered.
FREE_TIME_RENEW = dt.timedelta(days=1)
FREE_TIME_BATCH = 200


def free_time_spans(
    *, day: CounselorDay, start: dt.datetime, until: dt.datetime
) -> list[tuple[dt.date, dt.datetime, dt.datetime, dt.datetime]]:
    """A counselor's free time as FreeTime rows' values (local date, starts from, starts
    until, free until) for slot starts in [start, until). `day` must be counselor_days' for a
    range reaching at least a day past `until`, so that a span running past it is whole.
    Free: the windows (time off already cut out) less every booking and engagement widened by
    the buffer, which is exactly what CounselorDay.free_slots checks slot by slot; a local day
    at the daily cap has no rows."""
    tz = ZoneInfo(day.timezone)
    holes = merge((bs - day.buffer, be + day.buffer) for bs, be in day.busy)
    rows = []
    for span_start, span_end in subtract(day.windows, holes):
        lo, hi = max(span_start, start), min(span_end, until)
        if lo >= hi:
            continue
        date = lo.astimezone(tz).date()
        while True:
            midnight = local_midnight(date + dt.timedelta(days=1), tz).astimezone(dt.UTC)
            day_hi = min(hi, midnight)
            if lo < day_hi and day.day_counts[date] < day.daily_cap:
                rows.append((date, lo, day_hi, span_end))
            if midnight >= hi:
                break
            lo, date = midnight, date + dt.timedelta(days=1)
    return rows


@transaction.atomic
def free_time_refresh(*, counselor_ids: list[int], now: dt.datetime | None = None) -> list[int]:
    """Recompute the FreeTime rows of these counselors and mark them current. Each one's
    FreeTimeState row is claimed `FOR UPDATE SKIP LOCKED`: one that a change holds right now is
    left stale (the change marks it stale anyway) for the next sweep. Returns the ids done."""
    now = now or timezone.now()
    until = now + dt.timedelta(days=FREE_TIME_DAYS)
    profiles = list(
        CounselorProfile.objects.filter(pk__in=counselor_ids).values_list(
            "pk", "user__timezone", "daily_cap", "buffer_minutes"
        )
    )
    FreeTimeState.objects.bulk_create(
        [
            FreeTimeState(
                counselor_id=pk,
                stale=True,
                timezone=tz,
                daily_cap=cap,
                buffer_minutes=buffer,
                covers_until=now,
                refreshed_at=now,
            )
            for pk, tz, cap, buffer in profiles
        ],
        ignore_conflicts=True,
    )
    claimed = list(
        FreeTimeState.objects.select_for_update(skip_locked=True)
        .filter(counselor_id__in=[p[0] for p in profiles])
        .values_list("counselor_id", flat=True)
    )
    if not claimed:
        return []
    # The rules are read after the lock: a profile edit committed before it is seen here, and
    # one committed after it no longer matches the state's copy (counselor_free_filter).
    rules = counselor_rules(profiles=CounselorProfile.objects.filter(pk__in=claimed))
    days = counselor_days(profiles=rules, start=now, end=until + dt.timedelta(days=1), now=now)
    FreeTime.objects.filter(counselor_id__in=claimed).delete()
    FreeTime.objects.bulk_create(
        [
            FreeTime(
                counselor_id=r.pk,
                local_date=date,
                starts_from=lo,
                starts_until=hi,
                free_until=end,
            )
            for r in rules
            for date, lo, hi, end in free_time_spans(day=days[r.pk], start=now, until=until)
        ],
        batch_size=2000,
    )
    FreeTimeState.objects.bulk_update(
        [
            FreeTimeState(
                counselor_id=r.pk,
                stale=False,
                timezone=r.timezone,
                daily_cap=r.daily_cap,
                buffer_minutes=r.buffer_minutes,
                covers_until=until,
                refreshed_at=now,
            )
            for r in rules
        ],
        ["stale", "timezone", "daily_cap", "buffer_minutes", "covers_until", "refreshed_at"],
    )
    return [r.pk for r in rules]


def free_time_sweep(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Recompute the free time of up to `limit` counselors that need it: stale ones, those
    without rows yet, and those whose horizon runs out within FREE_TIME_RENEW; in batches, one
    transaction each. The directory is right without it (it computes any counselor not current
    live); the sweep keeps that set small. Returns how many were recomputed."""
    now = now or timezone.now()
    done = 0
    while done < limit:
        due = list(
            CounselorProfile.objects.filter(
                Q(free_time_state__isnull=True)
                | Q(free_time_state__stale=True)
                | Q(
                    free_time_state__covers_until__lt=now
                    + dt.timedelta(days=FREE_TIME_DAYS)
                    - FREE_TIME_RENEW
                )
            )
            .order_by("pk")
            .values_list("pk", flat=True)[: min(FREE_TIME_BATCH, limit - done)]
        )
        if not due:
            break
        refreshed = free_time_refresh(counselor_ids=due, now=now)
        done += len(refreshed)
        if len(refreshed) < len(due):
            break  # the rest are being changed right now: the next sweep takes them
    return done
