"""Group pages: the list of groups, a group's page (its rules, a seat, giving it up), the
counselor's form to open one, and the group room. Thin: forms check the input, groups.services
decides (as for the API) and its refusals are shown on the form (core.pages.form_submit)."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.pages import client_required, counselor_required, form_submit
from ethics.services import crisis_hotlines_for
from groups import selectors, services
from groups.forms import GroupForm, JoinForm
from groups.models import GroupSession, pseudonym_for
from groups.rules import GROUP_RULES


def _group_or_404(request, group_id: int) -> GroupSession:
    try:
        return selectors.group_get_for_viewer(user=request.user, group_id=group_id)
    except GroupSession.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET"])
def group_list(request):
    groups = list(selectors.group_list_upcoming(user=request.user))
    seats = selectors.group_seats_of(user=request.user)
    rows = [
        {"group": g, "seat": seats.get(g.pk), "left": g.capacity - g.seats_taken} for g in groups
    ]
    return render(request, "groups/group_list.html", {"rows": rows})


@counselor_required
@require_http_methods(["GET", "POST"])
def group_new(request):
    form = GroupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = form_submit(
                form, services.group_create, counselor_user=request.user, **form.cleaned_data
            )
            if done.ok:
                messages.success(request, _("Your group is open for seats."))
                return redirect("groups:group-detail", group_id=done.result.pk)
            status = done.status
    return render(request, "groups/group_new.html", {"form": form}, status=status)


def _detail(request, group: GroupSession, *, form=None, status=200):
    seat = selectors.group_seats_of(user=request.user).get(group.pk)
    now = timezone.now()
    is_counselor = group.counselor.user_id == request.user.pk
    room_open = selectors.group_room_open(group=group, now=now)
    return render(
        request,
        "groups/group_detail.html",
        {
            "group": group,
            "seat": seat,
            "pseudonym": pseudonym_for(seat) if seat else "",
            "left": max(0, group.capacity - group.seats_taken),
            "rules": GROUP_RULES,
            "form": form or JoinForm(),
            "is_counselor": is_counselor,
            "started": group.start <= now,
            "room_opens_minutes": settings.SESSION_ROOM_OPENS_MINUTES,
            "room_open": room_open and (is_counselor or seat is not None),
            "participants": selectors.group_participants(group_id=group.pk) if is_counselor else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def group_detail(request, group_id: int):
    return _detail(request, _group_or_404(request, group_id))


@client_required
@require_POST
def group_join(request, group_id: int):
    group = _group_or_404(request, group_id)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _detail(request, group, form=form, status=400)
    done = form_submit(form, services.group_join, group_id=group.pk, client=request.user)
    if not done.ok:
        return _detail(request, _group_or_404(request, group_id), form=form, status=done.status)
    messages.success(
        request,
        _("You have a seat. In the group you are “%(name)s”.")
        % {"name": _(pseudonym_for(done.result.position))},
    )
    return redirect("groups:group-detail", group_id=group.pk)


@client_required
@require_POST
def group_leave(request, group_id: int):
    group = _group_or_404(request, group_id)
    services.group_leave(group_id=group.pk, client=request.user)  # a Conflict: the 409 page
    messages.success(request, _("You gave up your seat."))
    return redirect("groups:group-list")


@counselor_required
@require_POST
def group_cancel(request, group_id: int):
    group = _group_or_404(request, group_id)
    services.group_cancel(group_id=group.pk, counselor_user=request.user)
    messages.success(request, _("The group was cancelled; its participants are told."))
    return redirect("groups:group-detail", group_id=group.pk)


@never_cache
@login_required
@require_http_methods(["GET"])
def group_room(request, group_id: int):
    """The room page; the socket decides who may enter at that moment (the page says when it
    opens or that it is over)."""
    group = _group_or_404(request, group_id)
    seat = selectors.group_seats_of(user=request.user).get(group.pk)
    is_counselor = group.counselor.user_id == request.user.pk
    if not is_counselor and seat is None:
        raise Http404
    return render(
        request,
        "groups/group_room.html",
        {
            "group": group,
            "is_counselor": is_counselor,
            "seat": seat,
            "pseudonym": pseudonym_for(seat) if seat else "",
            "rules": GROUP_RULES,
            "hotlines": crisis_hotlines_for(user=request.user) if not is_counselor else [],
            "room_strings": _room_strings(),
            "state": selectors.group_room_state(group=group, now=timezone.now()),
            "opens": group.start - dt.timedelta(minutes=settings.SESSION_ROOM_OPENS_MINUTES),
        },
    )


def _room_strings() -> dict:
    """The room script's words, translated here (the script has no catalog)."""
    return {
        "participant": _("Participant %(seat)s"),
        "counselor": _("Counselor"),
        "you": _("(you)"),
        "muted": pgettext("group moderation", "muted"),
        "mute": pgettext("group moderation", "Mute"),
        "unmute": pgettext("group moderation", "Unmute"),
        "remove": _("Remove"),
        "confirm_remove": _("Remove %(name)s from this group? They cannot come back."),
        "you_muted": _("The counselor has muted you for now. You can still read along."),
        "you_unmuted": _("You can write again."),
        "removed_you": _("The counselor removed you from this group."),
        "removed": _("%(name)s left the group."),
        "joined": _("%(name)s is here."),
        "left": _("%(name)s left the room."),
        "side_opened_client": _(
            "The counselor can now talk with you privately. Only the two of you see this channel."
        ),
        "side_opened_counselor": _("A private channel with %(name)s is open (crisis signal)."),
        "side_title": _("Private with %(name)s"),
        "warning": _("%(minutes)s minutes left."),
        "ended": _("The group has ended. Thank you for being here."),
        "connecting": _("Connecting…"),
        "waiting": _("Connection lost; trying again in %(seconds)s s."),
        "refused": _("The room is not open to you now."),
        "not_sent": _("Not sent: %(detail)s"),
        "remaining": _("%(clock)s left"),
    }
