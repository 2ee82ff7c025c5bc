"""The session room page (`/sessions/<booking_id>/`) and what the room posts to.

The live part (chat, presence, the clock, WebRTC signalling) runs over the existing socket
`/ws/sessions/<id>/` from static/js/room.js; this module renders the page around it and
takes the forms: the counselor's private notes, "raise crisis" and "refer" (answered as JSON
to the room's scripts, so a call is never interrupted by a page load, or with a redirect
when scripts are off), async messages and the client's feedback. Thin: every write is an
existing service (listening.services, ethics.services, ethics.review)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import Conflict
from core.sessions import SessionMode
from ethics.models import CrisisAlert, Referral, Resource
from ethics.services import crisis_hotlines_for
from listening import selectors, services
from listening.models import Booking, Feedback
from listening.selectors import booking_get_for_participant, session_note_for_counselor
from listening.services import crisis_raise
from oversight.services import referral_create, referral_list_for_user

CALL_MODES = (SessionMode.VOICE, SessionMode.VIDEO)
# The client's crisis panel after an async message carried a crisis signal (shown once).
CRISIS_PANEL_KEY = "room_crisis_panel"


# --- forms ---------------------------------------------------------------------------------


class RoomForm(forms.Form):
    """The room shows several forms at once: each gets its own prefix for element ids."""

    id_prefix = "room"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class NoteForm(RoomForm):
    id_prefix = "note"
    text = forms.CharField(
        required=False,
        strip=False,
        max_length=services.NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        label=gettext_lazy("Private notes"),
    )
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class RaiseCrisisForm(RoomForm):
    id_prefix = "crisis"
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("What did you observe?"),
    )


class ReferralForm(RoomForm):
    id_prefix = "refer"
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.none(),
        label=gettext_lazy("Resource"),
        empty_label=gettext_lazy("Choose a resource"),
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Why this resource (the client sees this)"),
    )
    urgency = forms.ChoiceField(
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        label=gettext_lazy("Urgency"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = Resource.objects.filter(is_active=True).order_by(
            "kind", "region", "name"
        )

    def grouped_resources(self) -> list[tuple[str, list[Resource]]]:
        """The directory by kind, for <optgroup>s."""
        groups: dict[str, list[Resource]] = {}
        for resource in self.fields["resource"].queryset:
            groups.setdefault(resource.get_kind_display(), []).append(resource)
        return list(groups.items())


class AsyncMessageForm(RoomForm):
    id_prefix = "msg"
    # Made when the form is drawn: submitting the same form twice stores the message once.
    id = forms.UUIDField(widget=forms.HiddenInput)
    text = forms.CharField(
        required=False,
        max_length=settings.CHAT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Your message"),
    )
    audio = forms.FileField(
        required=False,
        label=gettext_lazy("Or a voice note (at most 3 minutes)"),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("text") or "").strip() and not data.get("audio"):
            self.add_error("text", _("Write a message or add a voice note."))
        return data


class FeedbackForm(forms.Form):
    pre_distress = forms.IntegerField(
        min_value=0,
        max_value=10,
        label=gettext_lazy(
            "How distressed did you feel before the session? (0 = not at all, 10 = extremely)"
        ),
    )
    post_distress = forms.IntegerField(
        min_value=0, max_value=10, label=gettext_lazy("And now, after it? (0–10)")
    )
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
        label=gettext_lazy("How was the session? (5 = very good)"),
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Anything you want to tell us (optional)"),
    )


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


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [m for e in errs for m in e.messages] for field, errs in exc.error_dict.items()
        }
    return {"__all__": exc.messages}


def _form_errors(form: forms.Form) -> dict[str, list[str]]:
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


_DIALABLE = re.compile(r"^\+?[\d\s\-()]{3,}$")


def hotline_rows(hotlines: list[dict]) -> list[dict]:
    """The hotlines with a `tel:` number when the contact is a plain number (one tap on a
    phone), or a link when it is an address."""
    rows = []
    for hotline in hotlines:
        contact = hotline.get("contact") or ""
        rows.append(
            {
                **hotline,
                "tel": re.sub(r"[^\d+]", "", contact) if _DIALABLE.match(contact) else "",
                "url": contact if contact.startswith(("https://", "http://")) else "",
            }
        )
    return rows


def _other_party_name(booking: Booking, viewer) -> str:
    if booking.client_id == viewer.pk:
        return booking.counselor.display_name or booking.counselor.user.username
    return booking.client.username


def _js_strings(other: str) -> dict[str, str]:
    """Every string the room's scripts show, translated here (no English in the scripts).
    %(name)s, %(time)s, %(reason)s and %(seconds)s are filled in by the scripts."""
    return {
        "you": _("You"),
        "other": other,
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting in %(seconds)s s…"),
        "offline": _("You are offline. Your messages will be sent when the connection is back."),
        "refused": _("You cannot enter this room now."),
        "signedOut": _("You are signed out. Sign in again to rejoin the session."),
        "opensIn": _("The room opens in %(time)s."),
        "startsIn": _("Starts in %(time)s"),
        "remaining": _("%(time)s left"),
        "timeUp": _("Time is up. The room closes in a moment."),
        "warning": _("About two minutes left. Time to start bringing the conversation to a close."),
        "ended": _("The session has ended."),
        "noShowClient": _("The client did not come, so the session is closed."),
        "noShowCounselor": _(
            "The counselor did not come, so the session is closed. You will not be charged."
        ),
        "noShowBoth": _("Nobody came, so the session is closed."),
        "sending": _("Sending…"),
        "delivered": _("Delivered"),
        "notSent": _("Not sent: %(reason)s"),
        "putBack": _("Put back in the message box"),
        "typing": _("%(name)s is typing…"),
        "peerHere": _("%(name)s is in the room."),
        "peerAway": _("Waiting for %(name)s to join."),
        "peerJoined": _("%(name)s joined the room."),
        "peerLeft": _("%(name)s left the room."),
        "voiceNote": _("Voice note"),
        "err_too_long": _("the message is too long (at most 4,000 characters)"),
        "err_invalid_text": _("the message is empty or cannot be stored"),
        "err_session_closed": _("the session is closed"),
        "err_duplicate_id": _("this message was already sent"),
        "err_rate_limited": _("You are sending very fast, so messages go out a little slower."),
        "err_generic": _("something went wrong"),
        # the call
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "cameraOff": _("Turn camera off"),
        "cameraOn": _("Turn camera on"),
        "callIdle": _("You are not in the call."),
        "callWaiting": _("Waiting for %(name)s to join the call."),
        "callConnecting": _("Connecting the call…"),
        "callConnected": _("Call connected."),
        "callInterrupted": _("The call was interrupted. Reconnecting…"),
        "callLeft": _("You left the call."),
        "peerLeftCall": _("%(name)s left the call."),
        "incomingCall": _("%(name)s started the call. Join when you are ready."),
        "mediaDenied": _(
            "Camera or microphone access was refused. Allow it in your browser's site settings, "
            "or continue by text."
        ),
        "mediaMissing": _(
            "No camera or microphone was found. You can still hear %(name)s and write."
        ),
        "mediaUnsupported": _(
            "This browser cannot make calls. Continue by text, or try a current browser."
        ),
        "play": _("Play %(name)s's audio and video"),
        # the counselor's tools
        "crisisCounselor": _(
            "A crisis signal was detected in this session. The on-call supervisors have been "
            "alerted and the client was shown crisis lines. Follow the crisis protocol."
        ),
        "saving": _("Saving…"),
        "saved": _("Saved at %(time)s"),
        "notSaved": _("Not saved: %(reason)s"),
        "unsaved": _("Unsaved changes"),
        "sentOk": _("Done."),
    }


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
    context["room_strings"] = _js_strings(other)
    if is_counselor:
        note = session_note_for_counselor(counselor=user, booking_id=booking.pk)
        context["note"] = note
        context["note_form"] = forms_given.get("note_form") or NoteForm(
            initial={"text": note.text, "revision": note.revision}
        )
        context["crisis_form"] = forms_given.get("crisis_form") or RaiseCrisisForm()
        context["referral_form"] = forms_given.get("referral_form") or ReferralForm()
        context["referrals"] = referral_list_for_user(user=user).filter(booking=booking)
        context["open_alert"] = (
            CrisisAlert.objects.filter(booking=booking)
            .exclude(status=CrisisAlert.Status.RESOLVED)
            .order_by("-created_at")
            .first()
        )
    else:
        context["hotlines"] = hotline_rows(crisis_hotlines_for(user=user))
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
    as_json = _wants_json(request)
    error = None
    if form.is_valid():
        try:
            note = services.session_note_save(
                booking_id=booking.pk,
                counselor=request.user,
                text=form.cleaned_data["text"],
                revision=form.cleaned_data["revision"],
            )
        except ValidationError as exc:
            for field, msgs in _errors(exc).items():
                form.add_error(field if field in form.fields else None, msgs)
        except Conflict as exc:
            error = exc
        else:
            if as_json:
                saved = timezone.localtime(note.updated_at)
                return JsonResponse(
                    {
                        "revision": note.revision,
                        "saved_at": saved.isoformat(),
                        "saved_at_display": time_format(saved, "H:i"),
                    }
                )
            messages.success(request, _("Your notes were saved."))
            return redirect(reverse("session-room", args=[booking.pk]) + "#notes")
    if error is not None:
        if as_json:
            return JsonResponse({"error": error.message, "code": error.code}, status=409)
        form.add_error(None, error.message)
        return _render_room(request, booking, status=409, note_form=form)
    if as_json:
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    return _render_room(request, booking, status=400, note_form=form)


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
    return redirect(reverse("session-room", args=[booking.pk]) + "#tools")


@login_required
@require_POST
def refer(request, booking_id: int):
    """The counselor refers the client to a directory resource (the referral service)."""
    booking = _counselor_booking(request, booking_id)
    form = ReferralForm(request.POST)
    as_json = _wants_json(request)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            referral = referral_create(
                counselor=request.user,
                booking_id=booking.pk,
                resource_id=data["resource"].pk,
                reason=data["reason"],
                urgency=data["urgency"],
            )
        except ValidationError as exc:
            for field, msgs in _errors(exc).items():
                form.add_error(field if field in form.fields else None, msgs)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            done = _(
                "%(name)s was suggested to the client. They will find it under My referrals."
            ) % {"name": referral.resource.name}
            if as_json:
                return JsonResponse(
                    {
                        "message": done,
                        "referral": {
                            "id": referral.pk,
                            "resource": referral.resource.name,
                            "urgency": referral.get_urgency_display(),
                            "status": referral.get_status_display(),
                        },
                    },
                    status=201,
                )
            messages.success(request, done)
            return redirect(reverse("session-room", args=[booking.pk]) + "#tools")
    if as_json:
        return JsonResponse({"errors": _form_errors(form)}, status=status)
    return _render_room(request, booking, status=status, referral_form=form)


# --- async messages and feedback ---------------------------------------------------------------


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
            message, _created = services.message_post(
                booking_id=booking.pk,
                sender=request.user,
                uid=data["id"],
                text=data.get("text") or "",
                audio=data.get("audio"),
                live=False,
            )
        except ValidationError as exc:
            for field, msgs in _errors(exc).items():
                form.add_error(field if field in form.fields else None, msgs)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ObjectDoesNotExist:
            raise Http404 from None
        else:
            if (
                getattr(message, "crisis_alert", None) is not None
                and request.user.pk == booking.client_id
            ):
                request.session[CRISIS_PANEL_KEY] = booking.pk
            return redirect(reverse("session-room", args=[booking.pk]) + "#thread-end")
    return _render_room(request, booking, status=status, message_form=form)


@never_cache
@login_required
def feedback(request, booking_id: int):
    """The client's feedback after the session (once)."""
    booking = _participant_booking(request, booking_id)
    if booking.client_id != request.user.pk:
        raise PermissionDenied
    if Feedback.objects.filter(booking=booking).exists():
        messages.info(request, _("You already gave feedback on this session. Thank you."))
        return redirect("session-room", booking.pk)
    status = 200
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.feedback_submit(
                    client=request.user, booking_id=booking.pk, **form.cleaned_data
                )
            except ValidationError as exc:
                for field, msgs in _errors(exc).items():
                    form.add_error(field if field in form.fields else None, msgs)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Thank you for your feedback."))
                return redirect("session-room", booking.pk)
    else:
        form = FeedbackForm()
    took_place = (
        booking.status in (Booking.Status.CONFIRMED, Booking.Status.COMPLETED)
        and timezone.now() >= booking.end
    )
    return render(
        request,
        "listening/room_feedback.html",
        {
            "booking": booking,
            "form": form,
            "other_name": _other_party_name(booking, request.user),
            "took_place": took_place,
        },
        status=status,
    )
