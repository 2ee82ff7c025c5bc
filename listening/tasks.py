from zoneinfo import ZoneInfo

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from listening import services
from listening.models import Booking


@shared_task
def booking_cancelled_notify(booking_id: int) -> None:
    """Tell the other participant that a session was cancelled (by e-mail when they gave one).

    Idempotent: a booking already notified is skipped. The mark is written after the send,
    so a crash in between repeats the e-mail rather than losing it."""
    booking = Booking.objects.select_related("client", "counselor__user").get(pk=booking_id)
    if booking.status != Booking.Status.CANCELLED or booking.cancel_notified_at:
        return
    recipient = booking.client if booking.cancelled_by_id == booking.counselor_id else booking.counselor.user
    if recipient.email:
        when = booking.start.astimezone(ZoneInfo(recipient.timezone))
        with translation.override(recipient.language):
            send_mail(
                subject=_("Your Pianke session was cancelled"),
                message=_("Your %(minutes)s-minute session on %(when)s was cancelled. Reason: %(reason)s")
                % {"minutes": booking.duration_minutes, "when": when.strftime("%Y-%m-%d %H:%M %Z"),
                   "reason": booking.cancel_reason or "-"},
                from_email=None,
                recipient_list=[recipient.email],
            )
    Booking.objects.filter(pk=booking.pk).update(cancel_notified_at=timezone.now())


@shared_task
def bookings_complete_past() -> int:
    return services.bookings_complete_past()
