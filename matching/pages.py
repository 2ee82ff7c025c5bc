"""Talk-now pages: the client's request and live waiting state; the counselor's duty toggle
and offers (the dashboard's duty panel). Thin: matching.services decides, as for the API."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pages import (
    client_required,
    counselor_required,
    form_submit,
    intake_redirect,
)
from intake.services import intake_current_for
from matching import forms
from matching.models import MatchRequest, Offer
from matching.selectors import (
    continuity_on_duty,
    earliest_slots,
    match_request_get_for_client,
    wait_estimate,
)
from matching.services import (
    match_request_cancel,
    match_request_create,
    offer_accept,
    offer_decline,
    presence_set,
    reserve_pool_set,
)


def _room_url(booking_id: int) -> str:
    return reverse("listening:session-room", args=[booking_id])


@client_required
def talk_now(request):
    """Ask for a counselor now (or for suggested times in a window)."""
    status = 200
    open_request = MatchRequest.objects.filter(
        client=request.user, when=MatchRequest.When.NOW, status__in=MatchRequest.OPEN
    ).first()
    if request.method == "POST":
        form = forms.MatchRequestForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            done = form_submit(
                form,
                match_request_create,
                field_map={"when": "latest"},
                client=request.user,
                topic=data["topic"],
                mode=data["mode"],
                language=data["language"],
                duration_minutes=data["duration_minutes"],
                when=data["when"],
                earliest=data["earliest"],
                latest=data["latest"],
                note=data["note"],
                wants_someone_new=data["wants_someone_new"],
            )
            if done.ok:
                return redirect("matching:talk-now-status", request_id=done.result.pk)
            status = done.status
    else:
        current = intake_current_for(request.user)
        if current is None:
            return intake_redirect(request)
        form = forms.MatchRequestForm(
            initial={
                "topic": current.topic,
                "language": "en" if request.user.language == "en" else "zh",
            }
        )
    return render(
        request,
        "matching/talk_now.html",
        {
            "form": form,
            "open_request": open_request,
            "continuity": continuity_on_duty(client=request.user),
        },
        status=status,
    )


def _own_request(request, request_id: int) -> MatchRequest:
    try:
        return match_request_get_for_client(user=request.user, request_id=request_id)
    except MatchRequest.DoesNotExist:
        raise Http404 from None


@client_required
def talk_now_status(request, request_id: int):
    """The live waiting state; htmx polls the `_status` fragment, which redirects into the
    room once a counselor has accepted."""
    match = _own_request(request, request_id)
    suggestions = [
        {**s, "start_at": dt.datetime.fromisoformat(s["start"])} for s in match.suggestions
    ]
    estimate = wait_estimate(request=match)
    alternatives = []
    if estimate and estimate["exceeds_alternatives_threshold"]:
        alternatives = [
            {**s, "start_at": dt.datetime.fromisoformat(s["start"])}
            for s in earliest_slots(request=match)
        ]
    context = {
        "match": match,
        "suggestions": suggestions,
        "room_url": _room_url(match.booking_id) if match.booking_id else "",
        "estimate": estimate,
        "alternatives": alternatives,
        "async_url": f"{reverse('counselors:counselor-directory')}?"
        + urlencode({"specialty": match.topic, "language": match.language, "mode": "async"}),
        "continuity": (
            continuity_on_duty(client=request.user, language=match.language, mode=match.mode)
            if estimate and not match.wants_someone_new
            else []
        ),
    }
    if request.htmx:
        response = render(request, "matching/_status.html", context)
        if match.status == MatchRequest.Status.MATCHED:
            response["HX-Redirect"] = context["room_url"]
        return response
    return render(request, "matching/talk_now_status.html", context)


@client_required
@require_POST
def talk_now_cancel(request, request_id: int):
    match = _own_request(request, request_id)
    match_request_cancel(client=request.user, request_id=match.pk)  # a Conflict: the 409 page
    messages.info(request, _("Your request is cancelled."))
    return redirect("matching:talk-now")


@counselor_required
@require_POST
def duty_toggle(request):
    online = request.POST.get("online") == "1"
    presence_set(counselor=request.user, online=online)  # a Conflict (not listed): the 409 page
    if online:
        messages.success(
            request, _("You are on talk-now duty. Keep this page open to receive requests.")
        )
    else:
        messages.info(request, _("You are off talk-now duty."))
    return redirect(f"{reverse('listening:counselor-dashboard')}#duty-panel")


@counselor_required
@require_POST
def offer_respond(request, offer_id: int, action: str):
    if action not in ("accept", "decline"):
        raise Http404
    try:
        if action == "accept":
            offer = offer_accept(counselor=request.user, offer_id=offer_id)
            return redirect(_room_url(offer.request.booking_id))
        offer_decline(counselor=request.user, offer_id=offer_id)
    except Offer.DoesNotExist:
        raise Http404 from None
    # A Conflict (the offer timed out or was taken back) is the 409 page.
    return redirect(f"{reverse('listening:counselor-dashboard')}#duty-panel")


@counselor_required
@require_POST
def reserve_pool_toggle(request):
    on = request.POST.get("reserve_pool") == "1"
    reserve_pool_set(counselor=request.user, on=on)
    if on:
        messages.success(
            request,
            _("You are in the reserve pool: we will ask you when a surge needs your languages."),
        )
    else:
        messages.info(request, _("You have left the reserve pool."))
    back = request.POST.get("next") or ""
    if back not in ("profile", "dashboard"):
        back = "dashboard"
    if back == "profile":
        return redirect("counselors:counselor-profile-edit")
    return redirect(f"{reverse('listening:counselor-dashboard')}#surge-calls")
