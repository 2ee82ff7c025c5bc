"""Bookings: creating them without ever double-booking, and their status transitions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.exceptions import Conflict
from counselors.models import CounselorProfile
from counselors.services import price_for
from listening.availability import contains, is_quarter_hour
from listening.models import Booking
from listening.selectors import booking_get_for_participant, counselor_days

DURATIONS = (15, 30)
NO_SHOW_GRACE = dt.timedelta(minutes=10)


def _overlap_conflict(exc: IntegrityError) -> Conflict | None:
    """Translate the exclusion constraints' violation into the 409 it stands for."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if constraint == "booking_counselor_no_overlap":
        return Conflict(_("That time is no longer free."), code="slot_taken")
    if constraint == "booking_client_no_overlap":
        return Conflict(_("You already have a session at that time."), code="client_overlap")
    return None


@transaction.atomic
def booking_create(*, client: User, counselor_id: int, start: dt.datetime, duration_minutes: int,
                   mode: str, topic: str, note: str = "") -> Booking:
    """Book a slot. Field problems raise ValidationError (400); a taken time raises Conflict (409).

    The counselor's profile row is locked for the whole check-and-insert, which serialises
    bookings per counselor (so the daily cap, which no constraint can express, holds under
    concurrency); the exclusion constraints are the last word on overlaps either way."""
    if duration_minutes not in DURATIONS:
        raise ValidationError({"duration_minutes": [_("Sessions are 15 or 30 minutes.")]})
    if not is_quarter_hour(start):
        raise ValidationError({"start": [_("Sessions start on a quarter hour (:00, :15, :30, :45).")]})
    now = timezone.now()
    if start <= now:
        raise ValidationError({"start": [_("That time is in the past.")]})
    try:
        profile = (CounselorProfile.objects.select_for_update(of=("self",)).select_related("user")
                   .get(pk=counselor_id, verification=CounselorProfile.Verification.VERIFIED,
                        is_active=True, user__is_active=True))
    except CounselorProfile.DoesNotExist:
        raise ValidationError({"counselor": [_("No bookable counselor with this id.")]}) from None
    if mode not in profile.modes:
        raise ValidationError({"mode": [_("This counselor does not offer %(mode)s sessions.") % {"mode": mode}]})
    end = start + dt.timedelta(minutes=duration_minutes)
    if start < now + dt.timedelta(minutes=profile.min_notice_minutes):
        raise ValidationError({"start": [_("This counselor needs %(minutes)s minutes' notice.")
                                         % {"minutes": profile.min_notice_minutes}]})
    day = counselor_days(profiles=[profile], start=start, end=end, now=now)[profile.pk]
    if not contains(day.windows, start, end):
        raise ValidationError({"start": [_("That time is outside the counselor's availability.")]})
    if day.clashes(start, end):
        raise Conflict(_("That time is no longer free."), code="slot_taken")
    if day.day_counts[start.astimezone(ZoneInfo(day.timezone)).date()] >= profile.daily_cap:
        raise ValidationError({"start": [_("The counselor's sessions for that day are full.")]})
    booking = Booking(counselor=profile, client=client, start=start, end=end, duration_minutes=duration_minutes,
                      mode=mode, topic=topic, note=note, price=price_for(profile, duration_minutes))
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as exc:
        conflict = _overlap_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc
    return booking


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
    from listening.tasks import booking_cancelled_notify

    booking_cancelled_notify.delay_on_commit(booking.pk)
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
    return booking


def bookings_complete_past(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> int:
    """Complete confirmed bookings that ended more than `older_than` ago; a safety net
    behind the session clock. Each booking is claimed with skip_locked so two sweeps
    never fight over one."""
    done = 0
    cutoff = timezone.now() - older_than
    while True:
        with transaction.atomic():
            batch = list(Booking.objects.select_for_update(skip_locked=True)
                         .filter(status=Booking.Status.CONFIRMED, end__lt=cutoff)[:100])
            if not batch:
                return done
            now = timezone.now()
            for booking in batch:
                booking.status = Booking.Status.COMPLETED
                booking.completed_at = now
            Booking.objects.bulk_update(batch, ["status", "completed_at"])
            done += len(batch)
