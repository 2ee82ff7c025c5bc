"""Pages of oversight: the staff review of ethics flags (/staff/flags/, with an audited view
of the flagged session's content) and a client's referrals and toolkits (/referrals/). Thin:
forms check the input, oversight.services does the work (and writes the audit log)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.pages import client_required, form_submit, staff_member_required
from ethics.models import EthicsFlag, Referral, Resource
from listening.models import Booking
from oversight import forms, services


@never_cache
@staff_member_required
@require_GET
def flag_list(request):
    form = forms.FlagFilterForm(request.GET or None)
    flags = services.flag_queue().select_related("booking", "counselor", "assigned_to")
    status = 200
    if form.is_bound and not form.is_valid():
        flags, status = flags.none(), 400
    elif form.is_bound:
        flags = form.filter(flags)
    else:
        flags = flags.exclude(status=EthicsFlag.Status.RESOLVED)
    page = Paginator(flags, 50).get_page(request.GET.get("page"))
    counts = EthicsFlag.objects.aggregate(
        open=Count("pk", filter=Q(status=EthicsFlag.Status.OPEN)),
        in_review=Count("pk", filter=Q(status=EthicsFlag.Status.IN_REVIEW)),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/flags.html",
        {"form": form, "page": page, "counts": counts, "query": query.urlencode()},
        status=status,
    )


def _flag_or_404(request, flag_id: int) -> EthicsFlag:
    try:
        return services.flag_get(user=request.user, flag_id=flag_id)
    except EthicsFlag.DoesNotExist:
        raise Http404 from None


def _render_flag(
    request, flag: EthicsFlag, *, note_form=None, resolve_form=None, status: int = 200
):
    booking = (
        Booking.objects.select_related("counselor", "client").filter(pk=flag.booking_id).first()
        if flag.booking_id
        else None
    )
    try:
        complaint = flag.complaint
    except ObjectDoesNotExist:
        complaint = None
    counselor = flag.counselor if flag.counselor_id else None
    context = {
        "flag": flag,
        "booking": booking,
        "complaint": complaint,
        "counselor": counselor,
        "alert": flag.alert if flag.alert_id else None,
        "notes": flag.notes.select_related("author"),
        "audit": flag.audit_log.select_related("actor"),
        "note_form": note_form or forms.FlagNoteForm(),
        "resolve_form": resolve_form or forms.FlagResolveForm(flag=flag),
        "action_label": forms.ACTION_LABELS.get(flag.action, flag.action),
    }
    return render(request, "staff/flag_detail.html", context, status=status)


@never_cache
@staff_member_required
@require_GET
def flag_detail(request, flag_id: int):
    return _render_flag(request, _flag_or_404(request, flag_id))


@staff_member_required
@require_POST
def flag_assign(request, flag_id: int):
    flag = _flag_or_404(request, flag_id)
    services.flag_assign(user=request.user, flag_id=flag.pk)  # a Conflict is the 409 page
    messages.success(request, _("The flag is yours and in review."))
    return redirect("oversight:staff-flag", flag.pk)


@staff_member_required
@require_POST
def flag_note(request, flag_id: int):
    flag = _flag_or_404(request, flag_id)
    form = forms.FlagNoteForm(request.POST)
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            services.flag_note_add,
            user=request.user,
            flag_id=flag.pk,
            text=form.cleaned_data["text"],
        )
        if done.ok:
            messages.success(request, _("Note added."))
            return redirect(reverse("oversight:staff-flag", args=[flag.pk]) + "#notes")
        status = done.status
    return _render_flag(request, flag, note_form=form, status=status)


@staff_member_required
@require_POST
def flag_resolve(request, flag_id: int):
    flag = _flag_or_404(request, flag_id)
    form = forms.FlagResolveForm(request.POST, flag=flag)
    status = 400
    if form.is_valid():
        done = form_submit(
            form,
            services.flag_resolve,
            user=request.user,
            flag_id=flag.pk,
            resolution=form.cleaned_data["resolution"],
            action=form.cleaned_data["action"],
        )
        if done.ok:
            messages.success(request, _("Flag %(id)s resolved.") % {"id": flag.pk})
            return redirect("oversight:staff-flag", flag.pk)
        status = done.status
    return _render_flag(request, _flag_or_404(request, flag_id), resolve_form=form, status=status)


@never_cache
@staff_member_required
def flag_content(request, flag_id: int):
    """The flagged session's messages. GET asks to confirm; each POST is one audited read
    (oversight.services.flag_content_read writes the audit log), shown at once and never cached."""
    flag = _flag_or_404(request, flag_id)
    if flag.booking_id is None:
        raise Http404
    if request.method != "POST":
        return render(request, "staff/flag_content.html", {"flag": flag, "confirm": True})
    flag, booking, frames = services.flag_content_read(user=request.user, flag_id=flag.pk)
    roles = {booking.client_id: _("Client"), booking.counselor_id: _("Counselor")}
    transcript = [
        {
            **m,
            "who": roles.get(m["sender"], "?"),
            "sent_at": dt.datetime.fromisoformat(m["sent_at"]),
        }
        for m in frames
    ]
    return render(
        request,
        "staff/flag_content.html",
        {"flag": flag, "booking": booking, "transcript": transcript},
    )


TOOLKIT_KINDS = [Resource.Kind.BOOK, Resource.Kind.COURSE]


# The directory's language codes for each interface language.
READING_LANGUAGES = {"zh-hans": ["zh"], "en": ["en"]}


def _render_referrals(request, *, status: int = 200):
    referrals = services.referral_list_for_user(user=request.user).select_related(
        "counselor", "booking"
    )
    languages = READING_LANGUAGES.get(request.user.language, ["zh"])
    toolkits = Resource.objects.filter(
        is_active=True, kind__in=TOOLKIT_KINDS, language__in=languages
    ).order_by("kind", "name")
    return render(
        request,
        "ethics/referrals.html",
        {"referrals": referrals, "toolkits": toolkits},
        status=status,
    )


@never_cache
@client_required
@require_GET
def referrals(request):
    return _render_referrals(request)


@client_required
@require_POST
def referral_answer(request, referral_id: int, answer: str):
    respond = services.referral_accept if answer == "accept" else services.referral_decline
    try:
        referral = respond(client=request.user, referral_id=referral_id)  # Conflict: the 409 page
    except Referral.DoesNotExist:
        raise Http404 from None
    if referral.status == Referral.Status.ACCEPTED:
        messages.success(
            request, _("Accepted. We will check in with you in a week to see how it is going.")
        )
    else:
        messages.success(request, _("You declined the referral."))
    return redirect("oversight:referrals")
