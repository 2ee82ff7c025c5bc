"""Booking pages: book a slot, my bookings (join, cancel, add to calendar, feedback).
Thin: forms check the input; listening.services decides, as for the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from core.exceptions import Conflict
from core.pages import (
    add_service_errors,
    client_required,
    counselor_required,
    intake_redirect,
    role_required,
)
from core.sessions import session_length_from
from counselors.models import CounselorProfile
from counselors.selectors import counselor_get_listed
from intake.services import intake_current_for, intake_require
from listening import forms
from listening.models import Booking, Feedback
from listening.selectors import (
    booking_get_for_participant,
    booking_list_for_user,
    counselor_earnings,
    counselor_sessions_between,
    counselor_upcoming_count,
)
from listening.services import booking_cancel, booking_create, feedback_submit

participant_required = role_required(lambda user: user.is_client or user.is_counselor)
PAST_PAGE_SIZE = 20


@dataclass
class BookingRow:
    """A booking as one of its participants sees it now."""

    booking: Booking
    as_client: bool
    other_name: str
    opens_at: dt.datetime
    can_join: bool
    opens_later: bool
    can_cancel: bool
    needs_feedback: bool
    # Each row's own forms (prefixed, so labels and ids stay unique on the page).
    cancel_form: forms.CancelForm | None = None
    feedback_form: forms.FeedbackForm | None = None

    @property
    def room_url(self) -> str:
        return reverse("session-room", args=[self.booking.pk])

    @property
    def calendar_url(self) -> str:
        return reverse("booking-calendar", args=[self.booking.pk])


def booking_row(
    booking: Booking, *, user: User, now: dt.datetime, has_feedback: bool = False
) -> BookingRow:
    """The room opens SESSION_ROOM_OPENS_MINUTES before the start and closes at the end (as
    listening.selectors.booking_get_for_room decides for the socket)."""
    opens_at = booking.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES)
    confirmed = booking.status == Booking.Status.CONFIRMED and booking.ended_at is None
    as_client = booking.client_id == user.pk
    return BookingRow(
        booking=booking,
        as_client=as_client,
        other_name=(booking.counselor.display_name or booking.counselor.user.username)
        if as_client
        else booking.client.username,
        opens_at=opens_at,
        can_join=confirmed and opens_at <= now < booking.end,
        opens_later=confirmed and now < opens_at,
        can_cancel=booking.status == Booking.Status.CONFIRMED and now < booking.start,
        needs_feedback=(
            as_client
            and not has_feedback
            and now >= booking.end
            and booking.status in (Booking.Status.CONFIRMED, Booking.Status.COMPLETED)
        ),
    )


def booking_rows(bookings, *, user: User, now: dt.datetime) -> list[BookingRow]:
    bookings = list(bookings)
    rated = set(
        Feedback.objects.filter(booking__in=[b.pk for b in bookings]).values_list(
            "booking_id", flat=True
        )
    )
    return [booking_row(b, user=user, now=now, has_feedback=b.pk in rated) for b in bookings]


# --- booking a slot ------------------------------------------------------------------------------


@client_required
def booking_new(request, counselor_id: int):
    """Book one of the counselor's free times: length, mode, topic, an optional note."""
    try:
        counselor = counselor_get_listed(counselor_id=counselor_id)
    except CounselorProfile.DoesNotExist:
        raise Http404 from None
    try:
        intake_require(request.user)
    except Conflict:
        return intake_redirect(request)
    status = 200
    if request.method == "POST":
        form = forms.BookingForm(request.POST, counselor=counselor)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = booking_create(
                    client=request.user,
                    counselor_id=counselor.pk,
                    start=data["start"],
                    duration_minutes=data["duration_minutes"],
                    mode=data["mode"],
                    topic=data["topic"],
                    note=data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, field_map={"start": None, "counselor": None})
            except Conflict as exc:
                if exc.code == "intake_required":
                    return intake_redirect(request)
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Booked. You can join five minutes before the start."))
                return redirect(f"{reverse('booking-list-page')}#booking-{booking.pk}")
    else:
        current = intake_current_for(request.user)
        duration = session_length_from(request.GET.get("duration"))
        form = forms.BookingForm(
            counselor=counselor,
            initial={
                "start": request.GET.get("start", ""),
                "duration_minutes": duration,
                "mode": counselor.modes[0] if len(counselor.modes) == 1 else None,
                "topic": current.topic if current else "",
            },
        )
    start = forms.parse_start(form["start"].value() or "")
    start_error = forms.BookingForm.base_fields["start"].error_messages.get("invalid_start")
    if start is None and request.method != "POST":
        status = 400  # a link without a time (or a mangled one): nothing to book
    return render(
        request,
        "listening/booking_new.html",
        {
            "counselor": counselor,
            "form": form,
            "start": start,
            "start_error": start_error if start is None and not form.is_bound else None,
            "profile_url": reverse("counselor-profile", args=[counselor.pk]),
        },
        status=status,
    )


# --- my bookings ------------------------------------------------------------------------------------------


def cancel_prefix(booking_id: int) -> str:
    return f"cancel-{booking_id}"


def feedback_prefix(booking_id: int) -> str:
    return f"feedback-{booking_id}"


def _bookings_page(request, *, status=200, error_for=None, error=None, bound_form=None):
    """My bookings: upcoming soonest first, then past ones latest first. After a failed
    cancel or feedback, the same page with the error at that booking (`bound_form`)."""
    user, now = request.user, timezone.now()
    mine = booking_list_for_user(user=user)
    upcoming = mine.filter(
        status=Booking.Status.CONFIRMED, end__gt=now, ended_at__isnull=True
    ).order_by("start", "pk")
    past = mine.exclude(pk__in=upcoming.values("pk")).order_by("-start", "-pk")
    page = Paginator(past, PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    upcoming_rows = booking_rows(upcoming, user=user, now=now)
    past_rows = booking_rows(page.object_list, user=user, now=now)
    for row in upcoming_rows + past_rows:
        pk = row.booking.pk
        if row.can_cancel:
            row.cancel_form = forms.CancelForm(prefix=cancel_prefix(pk))
        if row.needs_feedback:
            row.feedback_form = forms.FeedbackForm(prefix=feedback_prefix(pk))
        if bound_form is not None and pk == error_for:
            if isinstance(bound_form, forms.CancelForm):
                row.cancel_form = bound_form
            else:
                row.feedback_form = bound_form
    return render(
        request,
        "listening/booking_list.html",
        {
            "upcoming": upcoming_rows,
            "past": past_rows,
            "page": page,
            "error_for": error_for,
            "error": error,
            "room_opens_minutes": settings.SESSION_ROOM_OPENS_MINUTES,
        },
        status=status,
    )


@participant_required
def booking_list(request):
    return _bookings_page(request)


@participant_required
@require_POST
def booking_cancel_page(request, booking_id: int):
    try:
        booking_get_for_participant(user=request.user, booking_id=booking_id)
    except Booking.DoesNotExist:
        raise Http404 from None
    form = forms.CancelForm(request.POST, prefix=cancel_prefix(booking_id))
    if not form.is_valid():
        return _bookings_page(request, status=400, error_for=booking_id, bound_form=form)
    try:
        booking_cancel(booking_id=booking_id, user=request.user, reason=form.cleaned_data["reason"])
    except Conflict as exc:
        return _bookings_page(request, status=409, error_for=booking_id, error=exc.message)
    messages.success(request, _("The session is cancelled; the other person is told."))
    return redirect("booking-list-page")


@client_required
@require_POST
def booking_feedback_page(request, booking_id: int):
    try:
        booking_get_for_participant(user=request.user, booking_id=booking_id)
    except Booking.DoesNotExist:
        raise Http404 from None
    form = forms.FeedbackForm(request.POST, prefix=feedback_prefix(booking_id))
    if form.is_valid():
        try:
            feedback_submit(client=request.user, booking_id=booking_id, **form.cleaned_data)
        except Booking.DoesNotExist:  # the counselor's own booking cannot be rated by them
            raise Http404 from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            return _bookings_page(request, status=409, error_for=booking_id, error=exc.message)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("booking-list-page")
    return _bookings_page(request, status=400, error_for=booking_id, bound_form=form)


def _local_midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)


def _month_start(day: dt.date, tz) -> dt.datetime:
    return _local_midnight(day.replace(day=1), tz)


# --- the counselor's dashboard: today's sessions and earnings -------------------------------------


@counselor_required
def dashboard(request):
    user = request.user
    profile = user.counselor_profile
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate(now)
    day_start, day_end = (
        _local_midnight(today, tz),
        _local_midnight(today + dt.timedelta(days=1), tz),
    )
    this_month = _month_start(today, tz)
    last_month = _month_start(this_month.date() - dt.timedelta(days=1), tz)
    next_month = _month_start(this_month.date() + dt.timedelta(days=32), tz)
    return render(
        request,
        "counselors/dashboard.html",
        {
            "profile": profile,
            "today": today,
            "sessions": booking_rows(
                counselor_sessions_between(user=user, start=day_start, end=day_end),
                user=user,
                now=now,
            ),
            "upcoming_count": counselor_upcoming_count(user=user, after=day_end),
            "earnings": [
                (_("This month"), counselor_earnings(user=user, start=this_month, end=next_month)),
                (_("Last month"), counselor_earnings(user=user, start=last_month, end=this_month)),
            ],
            "has_windows": profile.windows.exists(),
        },
    )
