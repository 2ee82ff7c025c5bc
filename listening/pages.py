"""Booking pages: book a slot, my bookings (join, cancel, add to calendar), the client's
feedback (inline on my bookings, or on the session's own page) and the counselor's dashboard.
Thin: forms check the input; listening.services decides, as for the API, and its refusals are
shown on the form (core.pages.form_submit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.availability import local_midnight
from core.pages import (
    client_required,
    counselor_required,
    form_submit,
    role_required,
    slots_by_local_day,
)
from core.sessions import session_length_from
from counselors.models import CounselorProfile
from counselors.selectors import counselor_get_listed
from counselors.services import (
    history_share_grant,
    history_share_withdraw,
    preferred_counselor_remove,
    preferred_counselor_set,
)
from intake.services import intake_current_for, intake_require
from listening import forms, toolkit
from listening.feeds import (
    calendar_feed_create,
    calendar_feed_live,
    calendar_feed_revoke,
    feed_urls,
)
from listening.models import Booking, Feedback
from listening.selectors import (
    booking_funding,
    booking_get_for_participant,
    booking_list_for_user,
    counselor_earnings,
    counselor_free_slots,
    counselor_sessions_between,
    counselor_upcoming_count,
    met_counselor_get,
    my_counselors_for_client,
    offering_for_booking_page,
)
from listening.services import booking_cancel, booking_create, booking_reschedule, feedback_submit
from packages.selectors import purchases_bookable

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
        return reverse("listening:session-room", args=[self.booking.pk])

    @property
    def calendar_url(self) -> str:
        return reverse("listening:api:booking-calendar", args=[self.booking.pk])

    @property
    def funding_note(self) -> str:
        """Why the client's organisation did not pay (empty when it did, or there is none)."""
        if not self.as_client:
            return ""
        return booking_funding(self.booking, viewer=self.booking.client)["note"]


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
    # No current intake: Conflict `intake_required`, which sends the client to the intake and
    # back here (core.pages.ConflictPageMiddleware).
    intake_require(request.user)
    status = 200
    source = request.POST if request.method == "POST" else request.GET
    offering = offering_for_booking_page(
        counselor_id=counselor.pk, offering_id=source.get("offering")
    )
    purchases = purchases_bookable(user=request.user, counselor_id=counselor.pk)
    if request.method == "POST":
        form = forms.BookingForm(
            request.POST, counselor=counselor, offering=offering, purchases=purchases
        )
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            done = form_submit(
                form,
                booking_create,
                field_map={"start": None, "counselor": None},
                client=request.user,
                counselor_id=counselor.pk,
                start=data["start"],
                duration_minutes=data["duration_minutes"],
                mode=data["mode"],
                topic=data["topic"],
                note=data["note"],
                offering_id=data["offering"],
                package_id=data.get("package"),
            )
            if done.ok:
                messages.success(request, _("Booked. You can join five minutes before the start."))
                _funding_message(request, done.result)
                return redirect(f"{reverse('listening:booking-list')}#booking-{done.result.pk}")
            status = done.status
    else:
        current = intake_current_for(request.user)
        duration = session_length_from(request.GET.get("duration"))
        form = forms.BookingForm(
            counselor=counselor,
            offering=offering,
            purchases=purchases,
            initial={
                "start": request.GET.get("start", ""),
                "duration_minutes": offering.duration_minutes if offering else duration,
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
            "profile_url": reverse("counselors:counselor-profile", args=[counselor.pk])
            + (f"?offering={offering.pk}&duration={offering.duration_minutes}" if offering else ""),
            "offering": offering,
        },
        status=status,
    )


def _funding_message(request, booking: Booking) -> None:
    """Who pays, said once after booking: the organisation's allowance, or why it did not."""
    funding = booking_funding(booking, viewer=request.user)
    if funding["kind"] == "package":
        messages.info(request, _("This session is one of your package's."))
    elif funding["kind"] == "allowance":
        messages.info(
            request,
            _("Paid by %(organisation)s's allowance.") % {"organisation": funding["organisation"]},
        )
    elif funding["note"]:
        messages.warning(request, _("%(note)s You pay the usual price for this session.") % funding)


# --- my bookings ------------------------------------------------------------------------------------------


def cancel_prefix(booking_id: int) -> str:
    return f"cancel-{booking_id}"


def feedback_prefix(booking_id: int) -> str:
    return f"feedback-{booking_id}"


def _bookings_page(request, *, status=200, error_for=None, bound_form=None):
    """My bookings: upcoming soonest first, then past ones latest first. After a failed
    cancel or feedback (`bound_form`), the same page at that booking: the form with its
    errors (400) or, when the service refused (409: the booking no longer takes it), the
    refusal at the booking instead of the form."""
    error = None
    if bound_form is not None and status == 409:
        error = " ".join(bound_form.non_field_errors())
        bound_form = None
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


def _my_booking(request, booking_id: int) -> Booking:
    """One of the viewer's own bookings (as its client or its counselor), else 404."""
    try:
        return booking_get_for_participant(user=request.user, booking_id=booking_id)
    except Booking.DoesNotExist:
        raise Http404 from None


@participant_required
@require_POST
def booking_cancel_page(request, booking_id: int):
    _my_booking(request, booking_id)
    form = forms.CancelForm(request.POST, prefix=cancel_prefix(booking_id))
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            booking_cancel,
            booking_id=booking_id,
            user=request.user,
            reason=form.cleaned_data["reason"],
        )
        if done.ok:
            messages.success(request, _("The session is cancelled; the other person is told."))
            # Back where the cancel was asked from (the time-off list), if that is one of ours.
            back = request.POST.get("next", "")
            if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                return redirect(back)
            return redirect("listening:booking-list")
        status = done.status
    return _bookings_page(request, status=status, error_for=booking_id, bound_form=form)


# --- moving a booking --------------------------------------------------------------------------

RESCHEDULE_DAYS = 14


@participant_required
def booking_reschedule_page(request, booking_id: int):
    """Move a session to another free time of the same counselor, picked in the viewer's own
    zone (the counselor gives the client a reason). The rules are booking_reschedule's."""
    booking = _my_booking(request, booking_id)
    status = 200
    if request.method == "POST":
        form = forms.RescheduleForm(request.POST)
        status = 400
        if form.is_valid():
            done = form_submit(
                form,
                booking_reschedule,
                booking_id=booking.pk,
                user=request.user,
                start=form.cleaned_data["start"],
                reason=form.cleaned_data["reason"],
            )
            if done.ok:
                messages.success(request, _("The session is moved; the other person is told."))
                return redirect(f"{reverse('listening:booking-list')}#booking-{booking.pk}")
            status = done.status
    else:
        form = forms.RescheduleForm()
    now = timezone.now()
    slots = []
    if booking.status == Booking.Status.CONFIRMED and now < booking.start:
        slots = counselor_free_slots(
            profile=booking.counselor,
            start=now,
            end=now + dt.timedelta(days=RESCHEDULE_DAYS),
            duration_minutes=booking.duration_minutes,
        )
    cutoff = booking.start - dt.timedelta(minutes=booking.counselor.reschedule_cutoff_minutes)
    return render(
        request,
        "listening/booking_reschedule.html",
        {
            "booking": booking,
            "form": form,
            "days": slots_by_local_day(slots),
            "cutoff": cutoff,
            "too_late": now >= cutoff,
            "as_counselor": booking.counselor_id == request.user.pk,
        },
        status=status,
    )


# --- feedback -----------------------------------------------------------------------------------


@login_required
def feedback(request, booking_id: int, *, inline: bool = False):
    """The client's feedback on a session that took place (once): one form, two doors, each
    with its own extras in its URL conf.

    `inline` (POST /bookings/<id>/feedback/, listening/urls.py: a client's POST only): the form on
    "my bookings", prefixed per booking; errors re-render my bookings at that booking.
    Otherwise the session's own page (/sessions/<id>/feedback/, never cached),
    offered by the room when the session ends, where feedback already given sends the client
    back to the room."""
    booking = _my_booking(request, booking_id)
    if booking.client_id != request.user.pk:
        raise PermissionDenied  # the counselor does not rate the session
    if not inline and Feedback.objects.filter(booking=booking).exists():
        messages.info(request, _("You already gave feedback on this session. Thank you."))
        return redirect("listening:session-room", booking.pk)
    form = forms.FeedbackForm(
        request.POST if request.method == "POST" else None,
        prefix=feedback_prefix(booking.pk) if inline else None,
    )
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            done = form_submit(
                form,
                feedback_submit,
                client=request.user,
                booking_id=booking.pk,
                **form.cleaned_data,
            )
            if done.ok:
                messages.success(request, _("Thank you for your feedback."))
                if inline:
                    return redirect("listening:booking-list")
                return redirect("listening:session-room", booking.pk)
            status = done.status
    if inline:
        return _bookings_page(request, status=status, error_for=booking.pk, bound_form=form)
    now = timezone.now()
    return render(
        request,
        "listening/room_feedback.html",
        {
            "booking": booking,
            "form": form,
            "other_name": booking_row(booking, user=request.user, now=now).other_name,
            "took_place": booking.status in (Booking.Status.CONFIRMED, Booking.Status.COMPLETED)
            and now >= booking.end,
        },
        status=status,
    )


def _month_start(day: dt.date, tz) -> dt.datetime:
    return local_midnight(day.replace(day=1), tz)


# --- the counselor's dashboard: today's sessions and earnings -------------------------------------


@counselor_required
def dashboard(request):
    user = request.user
    profile = user.counselor_profile
    tz = timezone.get_current_timezone()
    now = timezone.now()
    today = timezone.localdate(now)
    day_start, day_end = (
        local_midnight(today, tz),
        local_midnight(today + dt.timedelta(days=1), tz),
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


# --- the private calendar feed --------------------------------------------------------------------


@participant_required
def calendar_feed_page(request):
    """Subscribe to one's sessions in Google, Apple or Outlook: make a private URL (shown
    once), replace it, or revoke it."""
    context = {"feed": calendar_feed_live(user=request.user), "urls": None}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            feed, token = calendar_feed_create(user=request.user)
            context = {"feed": feed, "urls": feed_urls(request, token)}
            response = render(request, "listening/calendar_feed.html", context)
            response["Cache-Control"] = "private, no-store"  # the secret is on the page
            return response
        if action == "revoke":
            calendar_feed_revoke(user=request.user)
            messages.success(request, _("Your calendar link is revoked: it no longer works."))
            return redirect("listening:calendar-feed")
        return HttpResponseBadRequest()
    return render(request, "listening/calendar_feed.html", context)


# --- my counselors ----------------------------------------------------------------------------------


class _ActionForm(django_forms.Form):
    action = django_forms.ChoiceField(choices=[])
    notify_new_windows = django_forms.BooleanField(required=False)

    def __init__(self, *args, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a, a) for a in actions]


@client_required
def my_counselors(request):
    """The counselors the client has met: book again, prefer, hear of new times, share history."""
    return render(
        request,
        "listening/my_counselors.html",
        {"rows": my_counselors_for_client(client=request.user)},
    )


def _met(request, counselor_id: int) -> CounselorProfile:
    try:
        return met_counselor_get(client=request.user, counselor_id=counselor_id)
    except CounselorProfile.DoesNotExist:
        raise Http404 from None


@client_required
@require_POST
def my_counselor_preferred(request, counselor_id: int):
    counselor = _met(request, counselor_id)
    form = _ActionForm(request.POST, actions=["prefer", "unprefer"])
    if not form.is_valid():
        return HttpResponseBadRequest()
    if form.cleaned_data["action"] == "prefer":
        pref = preferred_counselor_set(
            client=request.user,
            counselor=counselor,
            notify_new_windows=form.cleaned_data["notify_new_windows"],
        )
        messages.success(
            request,
            _("Saved. You will hear of their new times.")
            if pref.notify_new_windows
            else _("Saved as a preferred counselor."),
        )
    else:
        preferred_counselor_remove(client=request.user, counselor_id=counselor.pk)
        messages.success(request, _("No longer a preferred counselor."))
    return redirect(f"{reverse('listening:my-counselors')}#counselor-{counselor.pk}")


@client_required
@require_POST
def my_counselor_history_share(request, counselor_id: int):
    counselor = _met(request, counselor_id)
    form = _ActionForm(request.POST, actions=["grant", "withdraw"])
    if not form.is_valid():
        return HttpResponseBadRequest()
    if form.cleaned_data["action"] == "grant":
        history_share_grant(client=request.user, counselor=counselor)
        messages.success(request, _("This counselor can now see your earlier sessions with them."))
    else:
        history_share_withdraw(client=request.user, counselor_id=counselor.pk)
        messages.success(
            request, _("Sharing withdrawn: the counselor no longer sees your history.")
        )
    return redirect(f"{reverse('listening:my-counselors')}#counselor-{counselor.pk}")


# --- the client's toolkit ----------------------------------------------------------------------


@dataclass
class _ItemCard:
    item: object
    form: forms.ToolkitEntryForm | None  # None: nothing to fill in (a guided audio)
    entries: list
    note: str = ""


def _entry_rows(entries) -> list[dict]:
    return [{"entry": e, "answers": toolkit.entry_answers(e)} for e in entries]


def _item_cards(items, *, booking=None, entries=(), notes=None, bound=None) -> list[_ItemCard]:
    """One card per item: its entry form (the bound one, if it is the item just posted) and
    the client's entries in it."""
    cards = []
    for item in items:
        form = None
        if item.kind != "audio":
            key = (item.pk, booking.pk if booking else None)
            form = (bound or {}).get(key) or forms.ToolkitEntryForm(
                item=item,
                booking_id=booking.pk if booking else None,
                counselor_name=booking.counselor.display_name if booking else "",
            )
        mine = [e for e in entries if e.item_id == item.pk]
        cards.append(_ItemCard(item, form, _entry_rows(mine), (notes or {}).get(item.pk, "")))
    return cards


def _toolkit_page(request, *, bound=None, status: int = 200):
    sessions = toolkit.toolkit_for_client(client=request.user)
    now = timezone.now()
    rows = [
        {
            "booking": s.booking,
            "upcoming": s.booking.end > now,
            "cards": _item_cards(
                s.items, booking=s.booking, entries=s.entries, notes=s.notes, bound=bound
            ),
        }
        for s in sessions
    ]
    own = list(toolkit.toolkit_entries_for_client(client=request.user).filter(booking=None))
    library = _item_cards(toolkit.toolkit_library_items(), entries=own, bound=bound)
    return render(
        request, "listening/toolkit.html", {"sessions": rows, "library": library}, status=status
    )


@client_required
def toolkit_page(request):
    """My toolkit: the tools that come with the client's sessions (before and after them) and
    the platform library; fill in an entry, share it with that session's counselor or not."""
    return _toolkit_page(request)


@client_required
@require_POST
def toolkit_entry_new(request):
    """Write an entry (the form of one item card)."""
    item_id = request.POST.get("item_id")
    booking_id = request.POST.get("booking_id") or None
    prefix = f"item{item_id}-{booking_id or 0}"
    try:
        item, booking = toolkit.toolkit_entry_target(
            client=request.user,
            item_id=int(item_id),
            booking_id=int(booking_id) if booking_id else None,
        )
    except (TypeError, ValueError, ValidationError):
        return HttpResponseBadRequest(_("Choose a tool from your toolkit."))
    form = forms.ToolkitEntryForm(
        request.POST,
        item=item,
        booking_id=booking.pk if booking else None,
        counselor_name=booking.counselor.display_name if booking else "",
        prefix=prefix,
    )
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            toolkit.toolkit_entry_create,
            field_map={"answers": None, "item": None, "booking": None},
            client=request.user,
            item_id=item.pk,
            booking_id=booking.pk if booking else None,
            answers=form.answers(),
            share=form.cleaned_data.get("share", False),
        )
        if done.ok:
            entry = done.result
            messages.success(
                request,
                _("Saved and shared with your counselor.")
                if entry.shared_at
                else _("Saved. Only you can see it."),
            )
            return redirect(f"{reverse('listening:toolkit')}#entry-{entry.pk}")
        status = done.status
    return _toolkit_page(
        request, bound={(item.pk, booking.pk if booking else None): form}, status=status
    )


@client_required
@require_POST
def toolkit_entry_share(request, entry_id: int):
    """Share an entry with its session's counselor, or stop sharing it."""
    try:
        entry = toolkit.toolkit_entry_get_for_client(client=request.user, entry_id=entry_id)
    except toolkit.ToolkitEntry.DoesNotExist:
        raise Http404 from None
    form = _ActionForm(request.POST, actions=["share", "unshare"])
    if not form.is_valid():
        return HttpResponseBadRequest()
    entry = toolkit.toolkit_entry_update(
        client=request.user, entry_id=entry.pk, share=form.cleaned_data["action"] == "share"
    )
    messages.success(
        request,
        _("Shared with your counselor.") if entry.shared_at else _("No longer shared."),
    )
    return redirect(f"{reverse('listening:toolkit')}#entry-{entry.pk}")


@client_required
@require_POST
def toolkit_entry_remove(request, entry_id: int):
    try:
        toolkit.toolkit_entry_delete(client=request.user, entry_id=entry_id)
    except toolkit.ToolkitEntry.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The entry was deleted."))
    return redirect(reverse("listening:toolkit"))


@login_required
@require_GET
def toolkit_audio(request, item_id: int):
    """A guided audio's file, for whoever may see the item (toolkit_audio_get_for_user)."""
    try:
        item = toolkit.toolkit_audio_get_for_user(user=request.user, item_id=item_id)
    except toolkit.ToolkitItem.DoesNotExist:
        raise Http404 from None
    # Guided audios are small (the upload limit), so one read; a FileResponse would stream.
    with item.audio.open("rb") as audio:
        response = HttpResponse(audio.read(), content_type=item.audio_content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
