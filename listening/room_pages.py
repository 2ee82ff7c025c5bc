"""The session room page (`/sessions/<booking_id>/`) and what the room posts to.

The live part (chat, presence, the clock, WebRTC signalling) runs over the existing socket
`/ws/sessions/<id>/` from static/js/room.js; this module renders the page around it and
takes the forms: the counselor's private notes, "raise crisis" and "refer" (answered as JSON
to the room's scripts, so a call is never interrupted by a page load, or with a redirect
when scripts are off) and async messages. The client's feedback after the session is
listening.pages.feedback (one view for it and "my bookings"). Thin: every write is an
existing service (listening.services, ethics.services, ethics.review); a service's refusal is
shown on its form (core.pages.form_submit)."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.pages import form_submit, with_contact_links
from core.sessions import SessionMode
from ethics.models import CrisisAlert
from ethics.services import crisis_hotlines_for
from listening import selectors, services, toolkit
from listening.forms import (
    AssignForm,
    AsyncMessageForm,
    NoteForm,
    RaiseCrisisForm,
    ReferralForm,
)
from listening.models import Booking, Feedback
from listening.room_strings import room_strings
from listening.selectors import (
    booking_get_for_participant,
    client_history_for_counselor,
    session_note_for_counselor,
)
from listening.services import crisis_raise
from oversight.services import referral_create, referral_list_for_user

CALL_MODES = (SessionMode.VOICE, SessionMode.VIDEO)
# The client's crisis panel after an async message carried a crisis signal (shown once).
CRISIS_PANEL_KEY = "room_crisis_panel"


# --- helpers ---------------------------------------------------------------------------------


def _participant_booking(request, booking_id: int) -> Booking:
    try:
        return booking_get_for_participant(user=request.user, booking_id=booking_id)
    except Booking.DoesNotExist:
        raise Http404 from None


def _counselor_booking(request, booking_id: int) -> Booking:
    """The booking if the viewer is its counselor: 404 for strangers, 403 for its client."""
    booking = _participant_booking(request, booking_id)
    if booking.counselor_id != request.user.pk:
        raise PermissionDenied
    return booking


def _wants_json(request) -> bool:
    """The room's scripts post with `Accept: application/json`; a plain form post wants a page."""
    return request.accepts("application/json") and not request.accepts("text/html")


def _form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A form's errors as the room's scripts read them: {field or "__all__": [message, ...]}."""
    return {field: list(errs) for field, errs in form.errors.items()}


def _room_state(booking: Booking, now: dt.datetime) -> str:
    """upcoming (before the room opens), open, over, or cancelled."""
    if booking.status == Booking.Status.CANCELLED:
        return "cancelled"
    if booking.ended_at or booking.status != Booking.Status.CONFIRMED or now >= booking.end:
        return "over"
    if now < booking.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES):
        return "upcoming"
    return "open"


def _message_rows(booking: Booking, viewer) -> list[dict]:
    """The stored messages, oldest first, for the template (replay continues after the last)."""
    rows = []
    for frame in selectors.messages_after(booking_id=booking.pk, after_seq=0, limit=1000):
        rows.append(
            {
                **frame,
                "sent_at": dt.datetime.fromisoformat(frame["sent_at"]),
                "mine": frame["sender"] == viewer.pk,
            }
        )
    return rows


def _other_party_name(booking: Booking, viewer) -> str:
    if booking.client_id == viewer.pk:
        return booking.counselor.display_name or booking.counselor.user.username
    return booking.client.username


def _room_context(request, booking: Booking, **forms_given) -> dict:
    user = request.user
    now = timezone.now()
    role = booking.role_of(user)
    state = _room_state(booking, now)
    other = _other_party_name(booking, user)
    is_counselor = role == Booking.Party.COUNSELOR
    live = booking.mode != SessionMode.ASYNC
    context = {
        "booking": booking,
        "role": role,
        "is_counselor": is_counselor,
        "state": state,
        "live": live,
        "call": booking.mode in CALL_MODES,
        "other_name": other,
        "opens_at": booking.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES),
        "purged": booking.content_purged_at is not None,
        "message_rows": _message_rows(booking, user),
        "max_chars": settings.CHAT_MAX_CHARS,
        "note_max_chars": services.NOTE_MAX_CHARS,
    }
    context["last_seq"] = max((m["seq"] for m in context["message_rows"]), default=0)
    context["room_config"] = {
        "bookingId": booking.pk,
        "userId": user.pk,
        "role": role,
        "mode": booking.mode,
        "state": state,
        "wsPath": f"/ws/sessions/{booking.pk}/",
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "opensAt": context["opens_at"].isoformat(),
        "serverNow": now.isoformat(),
        "lastSeq": context["last_seq"],
        "maxChars": settings.CHAT_MAX_CHARS,
        "polite": role == Booking.Party.CLIENT,  # perfect negotiation: the client yields on glare
    }
    context["room_strings"] = room_strings(other)
    if is_counselor:
        note = session_note_for_counselor(counselor=user, booking_id=booking.pk)
        context["note"] = note
        context["note_form"] = forms_given.get("note_form") or NoteForm(
            initial={"text": note.text, "revision": note.revision}
        )
        # Earlier sessions with this client (theirs only), if the client shares their history.
        context["client_history"] = client_history_for_counselor(
            counselor=user, client_id=booking.client_id, before=booking.start
        )
        context["crisis_form"] = forms_given.get("crisis_form") or RaiseCrisisForm()
        context["referral_form"] = forms_given.get("referral_form") or ReferralForm()
        context["referrals"] = referral_list_for_user(user=user).filter(booking=booking)
        # The session's tools, what the client shared with this counselor, and what to give.
        context["session_tools"] = toolkit.toolkit_items_of_booking(booking=booking)
        context["shared_entries"] = [
            {"entry": e, "answers": toolkit.entry_answers(e)}
            for e in toolkit.toolkit_entries_shared_with(counselor=user, booking_id=booking.pk)
        ]
        context["assign_form"] = forms_given.get("assign_form") or AssignForm(
            items=toolkit.toolkit_items_assignable(counselor=user)
        )
        context["open_alert"] = (
            CrisisAlert.objects.filter(booking=booking)
            .exclude(status=CrisisAlert.Status.RESOLVED)
            .order_by("-created_at")
            .first()
        )
    else:
        context["hotlines"] = [with_contact_links(h) for h in crisis_hotlines_for(user=user)]
        context["session_tools"] = toolkit.toolkit_items_of_booking(booking=booking)
        context["show_crisis_panel"] = request.session.pop(CRISIS_PANEL_KEY, None) == booking.pk
        context["feedback_given"] = Feedback.objects.filter(booking=booking).exists()
        context["feedback_open"] = (
            state == "over"
            and booking.status == Booking.Status.COMPLETED
            and not context["feedback_given"]
        )
    if not live:
        context["message_form"] = forms_given.get("message_form") or AsyncMessageForm(
            initial={"id": uuid.uuid4()}
        )
    return context


def _render_room(request, booking: Booking, *, status: int = 200, **forms_given):
    return render(
        request,
        "listening/room.html",
        _room_context(request, booking, **forms_given),
        status=status,
    )


# --- the page ----------------------------------------------------------------------------------


@never_cache  # session content: never kept by a browser or proxy cache
@login_required
@require_GET
def room(request, booking_id: int):
    booking = _participant_booking(request, booking_id)
    return _render_room(request, booking)


@never_cache
@login_required
@require_GET
def thread(request, booking_id: int):
    """The message list alone (the async thread polls it)."""
    booking = _participant_booking(request, booking_id)
    return render(
        request,
        "listening/room_thread.html",
        {
            "message_rows": _message_rows(booking, request.user),
            "other_name": _other_party_name(booking, request.user),
            "purged": booking.content_purged_at is not None,
        },
    )


# --- the counselor's tools --------------------------------------------------------------------


@login_required
@require_POST
def note_save(request, booking_id: int):
    booking = _counselor_booking(request, booking_id)
    form = NoteForm(request.POST)
    if _wants_json(request):
        return _note_save_json(request, booking, form)
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            services.session_note_save,
            booking_id=booking.pk,
            counselor=request.user,
            text=form.cleaned_data["text"],
            revision=form.cleaned_data["revision"],
        )
        if done.ok:
            messages.success(request, _("Your notes were saved."))
            return redirect(reverse("listening:session-room", args=[booking.pk]) + "#notes")
        status = done.status
    return _render_room(request, booking, status=status, note_form=form)


def _note_save_json(request, booking: Booking, form: NoteForm) -> JsonResponse:
    """The autosave's answer. A refusal (409) names its code, `note_changed` when another
    window saved first (the script then stops autosaving)."""
    if form.is_valid():
        done = form_submit(
            form,
            services.session_note_save,
            booking_id=booking.pk,
            counselor=request.user,
            text=form.cleaned_data["text"],
            revision=form.cleaned_data["revision"],
        )
        if done.status == 409:
            return JsonResponse(
                {"error": form.non_field_errors()[0], "code": done.code}, status=409
            )
        if done.ok:
            note = done.result
            saved = timezone.localtime(note.updated_at)
            return JsonResponse(
                {
                    "revision": note.revision,
                    "saved_at": saved.isoformat(),
                    "saved_at_display": time_format(saved, "H:i"),
                }
            )
    return JsonResponse({"errors": _form_errors(form)}, status=400)


@login_required
@require_POST
def crisis_raise_view(request, booking_id: int):
    """The counselor raises a crisis on this session (the same service as POST crisis/raise/)."""
    booking = _counselor_booking(request, booking_id)
    form = RaiseCrisisForm(request.POST)
    as_json = _wants_json(request)
    if not form.is_valid():
        if as_json:
            return JsonResponse({"errors": _form_errors(form)}, status=400)
        return _render_room(request, booking, status=400, crisis_form=form)
    crisis_raise(counselor=request.user, booking_id=booking.pk, note=form.cleaned_data["note"])
    done = _("The on-call supervisors have been alerted. The client is being shown crisis lines.")
    if as_json:
        return JsonResponse({"message": done}, status=201)
    messages.success(request, done)
    return redirect(reverse("listening:session-room", args=[booking.pk]) + "#tools")


@login_required
@require_POST
def assign(request, booking_id: int):
    """The counselor gives the client a toolkit item to try (the toolkit service)."""
    booking = _counselor_booking(request, booking_id)
    form = AssignForm(request.POST, items=toolkit.toolkit_items_assignable(counselor=request.user))
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            toolkit.toolkit_assign,
            counselor=request.user,
            booking_id=booking.pk,
            item_id=form.cleaned_data["item"].pk,
            note=form.cleaned_data["note"],
        )
        if done.ok:
            message = _("%(title)s is in the client's toolkit now.") % {
                "title": done.result.item.title
            }
            if _wants_json(request):
                return JsonResponse({"message": message}, status=201)
            messages.success(request, message)
            return redirect(reverse("listening:session-room", args=[booking.pk]) + "#toolkit")
        status = done.status
    if _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=status)
    return _render_room(request, booking, status=status, assign_form=form)


@login_required
@require_POST
def refer(request, booking_id: int):
    """The counselor refers the client to a directory resource (the referral service)."""
    booking = _counselor_booking(request, booking_id)
    form = ReferralForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        done = form_submit(
            form,
            referral_create,
            counselor=request.user,
            booking_id=booking.pk,
            resource_id=data["resource"].pk,
            reason=data["reason"],
            urgency=data["urgency"],
        )
        if done.ok:
            referral = done.result
            message = _(
                "%(name)s was suggested to the client. They will find it under My referrals."
            ) % {"name": referral.resource.name}
            if _wants_json(request):
                return JsonResponse(
                    {
                        "message": message,
                        "referral": {
                            "id": referral.pk,
                            "resource": referral.resource.name,
                            "urgency": referral.get_urgency_display(),
                            "status": referral.get_status_display(),
                        },
                    },
                    status=201,
                )
            messages.success(request, message)
            return redirect(reverse("listening:session-room", args=[booking.pk]) + "#tools")
        status = done.status
    if _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=status)
    return _render_room(request, booking, status=status, referral_form=form)


# --- async messages ------------------------------------------------------------------------------


@login_required
@require_POST
def message_post(request, booking_id: int):
    """An async text or voice note (the same service as POST bookings/{id}/messages/)."""
    booking = _participant_booking(request, booking_id)
    form = AsyncMessageForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            done = form_submit(
                form,
                services.message_post,
                booking_id=booking.pk,
                sender=request.user,
                uid=data["id"],
                text=data.get("text") or "",
                audio=data.get("audio"),
                live=False,
            )
        except ObjectDoesNotExist:
            raise Http404 from None
        if done.ok:
            message, _created = done.result
            if (
                getattr(message, "crisis_alert", None) is not None
                and request.user.pk == booking.client_id
            ):
                request.session[CRISIS_PANEL_KEY] = booking.pk
            return redirect(reverse("listening:session-room", args=[booking.pk]) + "#thread-end")
        status = done.status
    return _render_room(request, booking, status=status, message_form=form)
