"""Celery tasks: thin and idempotent; each takes ids and calls a service.

Task bodies import the services module when they run: it imports this module at module level
(to queue the e-mails after commit), so the import goes the other way here."""

import datetime as dt
from zoneinfo import ZoneInfo

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.notices import local_time
from listening.models import Booking

CLOCK_LOOKAHEAD = dt.timedelta(seconds=30)


def _local(booking: Booking, user) -> str:
    return local_time(booking.start, ZoneInfo(user.timezone))


@shared_task
def booking_cancelled_notify(booking_id: int) -> None:
    """Tell the other participant that a session was cancelled (by e-mail when they gave one).

    Idempotent: a booking already notified is skipped. The mark is written after the send,
    so a crash in between repeats the e-mail rather than losing it."""
    booking = Booking.objects.select_related("client", "counselor__user").get(pk=booking_id)
    if booking.status != Booking.Status.CANCELLED or booking.cancel_notified_at:
        return
    recipient = (
        booking.client
        if booking.cancelled_by_id == booking.counselor_id
        else booking.counselor.user
    )
    if recipient.email:
        with translation.override(recipient.language):
            send_mail(
                subject=_("Your Pianke session was cancelled"),
                message=_(
                    "Your %(minutes)s-minute session on %(when)s was cancelled. Reason: %(reason)s"
                )
                % {
                    "minutes": booking.duration_minutes,
                    "when": _local(booking, recipient),
                    "reason": booking.cancel_reason or "-",
                },
                from_email=None,
                recipient_list=[recipient.email],
            )
    Booking.objects.filter(pk=booking.pk).update(cancel_notified_at=timezone.now())


@shared_task
def booking_rescheduled_notify(
    booking_id: int, moved_by_id: int, old_start: str, reason: str
) -> None:
    """Tell the other participant that a session moved (by e-mail when they gave one), in
    their language and zone, never naming the topic. One e-mail per reschedule: the task is
    queued once, after the commit that moved it."""
    booking = Booking.objects.select_related("client", "counselor__user").get(pk=booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        return
    recipient = booking.client if moved_by_id == booking.counselor_id else booking.counselor.user
    if not recipient.email:
        return
    zone = ZoneInfo(recipient.timezone)
    before = local_time(old_start, zone)
    with translation.override(recipient.language):
        send_mail(
            subject=_("Your Pianke session was moved"),
            message=_(
                "Your session on %(before)s was moved to %(when)s (%(minutes)s minutes). "
                "Reason: %(reason)s"
            )
            % {
                "before": before,
                "when": _local(booking, recipient),
                "minutes": booking.duration_minutes,
                "reason": reason or "-",
            },
            from_email=None,
            recipient_list=[recipient.email],
        )


@shared_task
def booking_no_show_notify(booking_id: int) -> None:
    """Tell both participants that a session was recorded as a no-show (by e-mail)."""
    booking = Booking.objects.select_related("client", "counselor__user").get(pk=booking_id)
    if booking.status != Booking.Status.NO_SHOW:
        return
    for recipient in (booking.client, booking.counselor.user):
        if not recipient.email:
            continue
        with translation.override(recipient.language):
            who = {
                Booking.Party.CLIENT: _("the client"),
                Booking.Party.COUNSELOR: _("the counselor"),
                Booking.Party.BOTH: _("neither participant"),
            }[booking.no_show_party]
            send_mail(
                subject=_("A Pianke session was missed"),
                message=_(
                    "The session on %(when)s was recorded as a no-show: %(who)s did not join "
                    "within 10 minutes."
                )
                % {"when": _local(booking, recipient), "who": who},
                from_email=None,
                recipient_list=[recipient.email],
            )


@shared_task
def session_warn(booking_id: int) -> bool:
    from listening import services  # at run time: services imports this module

    return services.session_warn(booking_id=booking_id)


@shared_task
def session_end(booking_id: int) -> bool:
    from listening import services  # at run time: services imports this module

    return services.session_end(booking_id=booking_id)


@shared_task
def session_no_show_check(booking_id: int) -> str:
    from listening import services  # at run time: services imports this module

    return services.session_no_show_check(booking_id=booking_id)


CLOCK_TASKS = {"warn": session_warn, "end": session_end, "no_show": session_no_show_check}


@shared_task
def session_clock_tick() -> int:
    """Beat, every 15 s: schedule the clock events due within the lookahead at their exact
    time, and run overdue ones now. The tasks claim their event in the database, so the
    copies a tick after a tick dispatches are harmless."""
    from listening import services  # at run time: services imports this module

    now = timezone.now()
    due = services.session_clock_due(now=now, lookahead=CLOCK_LOOKAHEAD)
    for event, booking_id, when in due:
        CLOCK_TASKS[event].apply_async(args=[booking_id], eta=max(when, now))
    return len(due)


@shared_task
def session_content_purge() -> int:
    from listening import services  # at run time: services imports this module

    return services.session_content_purge()


@shared_task
def reminders_send_due() -> int:
    """Beat, every 30 s: deliver the due session reminders (listening.services explains the
    claim protocol). Safe to run twice at once and to repeat after a crash."""
    from listening import services  # at run time: services imports this module

    return services.reminders_send_due()


@shared_task
def free_time_sweep() -> int:
    """Beat, every 15 s: recompute the precomputed free time of counselors changed since, new
    or near their horizon (listening.services.free_time_sweep). Safe to run twice at once: each
    counselor is claimed with SKIP LOCKED."""
    from listening import services  # at run time: services imports this module

    return services.free_time_sweep()
