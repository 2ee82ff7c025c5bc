"""Pages of the safety side: the on-call crisis queue (/oncall/), the staff review of ethics
flags (/staff/flags/), the resource directory for staff (/staff/resources/) and a client's
referrals and toolkits (/referrals/). Thin: forms check the input, ethics.services and
ethics.review do the work (and write the audit log)."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.exceptions import Conflict
from ethics import forms, review
from ethics.models import CrisisAlert, EthicsFlag, OnCallShift, Referral, Resource
from ethics.selectors import alert_queue
from ethics.services import alert_acknowledge, alert_resolve
from listening.models import Booking

RESOLVED_SHOWN = 50
STALE_AFTER_DAYS = 365  # a directory entry not checked for a year is marked for re-checking


def _role_check(test):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


responder_required = _role_check(lambda user: user.is_crisis_responder)
staff_member_required = _role_check(lambda user: user.is_staff_member)
client_required = _role_check(lambda user: user.role == User.Role.CLIENT)


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(
                field if field in form.fields else None, [m for e in errors for m in e.messages]
            )
    else:
        form.add_error(None, exc.messages)


# --- the on-call queue -------------------------------------------------------------------------


def _alert_rows(alerts, *, bound: dict | None = None) -> list[dict]:
    """Each alert with its two forms (the one just posted, with its errors, if it is this alert's)."""
    bound = bound or {}
    rows = []
    for alert in alerts:
        ack = bound.get(("ack", alert.pk)) or forms.AcknowledgeForm(id_prefix=f"ack{alert.pk}")
        resolve = bound.get(("resolve", alert.pk)) or forms.ResolveAlertForm(
            id_prefix=f"resolve{alert.pk}"
        )
        rows.append(
            {
                "alert": alert,
                "ack_form": ack,
                "resolve_form": resolve,
                "version": f"{alert.status}:{alert.escalation_level}:{int(alert.overdue)}:{alert.signal_count}",
            }
        )
    return rows


def _queue_context(request, *, bound: dict | None = None) -> dict:
    resolved = request.GET.get("show") == "resolved"
    alerts = alert_queue().select_related(
        "client", "booking__counselor", "raised_by", "acknowledged_by", "resolved_by", "ethics_flag"
    )
    if resolved:
        alerts = alerts.filter(status=CrisisAlert.Status.RESOLVED).order_by("-resolved_at", "-pk")[
            :RESOLVED_SHOWN
        ]
    else:
        alerts = alerts.exclude(status=CrisisAlert.Status.RESOLVED)[:200]
    rows = _alert_rows(alerts, bound=bound)
    return {
        "rows": rows,
        "showing_resolved": resolved,
        "open_count": sum(1 for r in rows if r["alert"].status == CrisisAlert.Status.OPEN),
    }


def _render_oncall(request, *, bound: dict | None = None, status: int = 200):
    now = timezone.now()
    shifts = list(
        OnCallShift.objects.filter(starts_at__lte=now, ends_at__gt=now)
        .select_related("supervisor")
        .order_by("ends_at")
    )
    context = {
        **_queue_context(request, bound=bound),
        "shifts": shifts,
        "my_shift": next((s for s in shifts if s.supervisor_id == request.user.pk), None),
        "strings": {
            "connecting": _("Connecting…"),
            "live": _("Live"),
            "reconnecting": _("Reconnecting…"),
            "refused": _("Live updates are not available for your account."),
            "newAlert": _("New crisis alert"),
            "title": _("On call"),
        },
    }
    return render(request, "ethics/oncall.html", context, status=status)


@never_cache
@responder_required
@require_GET
def oncall(request):
    return _render_oncall(request)


@never_cache
@responder_required
@require_GET
def oncall_queue(request):
    """The queue alone: the page's script fetches it when the staff socket says something changed."""
    return render(request, "ethics/oncall_queue.html", _queue_context(request))


@responder_required
@require_POST
def alert_acknowledge_view(request, alert_id: int):
    form = forms.AcknowledgeForm(request.POST, id_prefix=f"ack{alert_id}")
    if form.is_valid():
        try:
            alert_acknowledge(alert_id=alert_id, user=request.user, note=form.cleaned_data["note"])
        except CrisisAlert.DoesNotExist:
            raise Http404 from None
        except Conflict as exc:
            form.add_error(None, exc.message)
            return _render_oncall(request, bound={("ack", alert_id): form}, status=409)
        messages.success(
            request,
            _("Alert %(id)s acknowledged. The other responders see it at once.") % {"id": alert_id},
        )
        return redirect(reverse("oncall") + f"#alert-{alert_id}")
    return _render_oncall(request, bound={("ack", alert_id): form}, status=400)


@responder_required
@require_POST
def alert_resolve_view(request, alert_id: int):
    form = forms.ResolveAlertForm(request.POST, id_prefix=f"resolve{alert_id}")
    status = 400
    if form.is_valid():
        try:
            alert_resolve(
                alert_id=alert_id,
                user=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except CrisisAlert.DoesNotExist:
            raise Http404 from None
        except ValidationError as exc:
            _errors_into(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("Alert %(id)s resolved.") % {"id": alert_id})
            return redirect("oncall")
    return _render_oncall(request, bound={("resolve", alert_id): form}, status=status)


# --- the flag review ---------------------------------------------------------------------------


@never_cache
@staff_member_required
@require_GET
def flag_list(request):
    form = forms.FlagFilterForm(request.GET or None)
    flags = review.flag_queue().select_related("booking", "counselor", "assigned_to")
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
        return review.flag_get(user=request.user, flag_id=flag_id)
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
    try:
        review.flag_assign(user=request.user, flag_id=flag.pk)
    except Conflict as exc:
        messages.error(request, exc.message)
        return _render_flag(request, _flag_or_404(request, flag_id), status=409)
    messages.success(request, _("The flag is yours and in review."))
    return redirect("staff-flag", flag.pk)


@staff_member_required
@require_POST
def flag_note(request, flag_id: int):
    flag = _flag_or_404(request, flag_id)
    form = forms.FlagNoteForm(request.POST)
    if form.is_valid():
        try:
            review.flag_note_add(user=request.user, flag_id=flag.pk, text=form.cleaned_data["text"])
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Note added."))
            return redirect(reverse("staff-flag", args=[flag.pk]) + "#notes")
    return _render_flag(request, flag, note_form=form, status=400)


@staff_member_required
@require_POST
def flag_resolve(request, flag_id: int):
    flag = _flag_or_404(request, flag_id)
    form = forms.FlagResolveForm(request.POST, flag=flag)
    status = 400
    if form.is_valid():
        try:
            review.flag_resolve(
                user=request.user,
                flag_id=flag.pk,
                resolution=form.cleaned_data["resolution"],
                action=form.cleaned_data["action"],
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("Flag %(id)s resolved.") % {"id": flag.pk})
            return redirect("staff-flag", flag.pk)
    return _render_flag(request, _flag_or_404(request, flag_id), resolve_form=form, status=status)


@never_cache
@staff_member_required
def flag_content(request, flag_id: int):
    """The flagged session's messages. GET asks to confirm; each POST is one audited read
    (review.flag_content_read writes the audit log), shown at once and never cached."""
    flag = _flag_or_404(request, flag_id)
    if flag.booking_id is None:
        raise Http404
    if request.method != "POST":
        return render(request, "staff/flag_content.html", {"flag": flag, "confirm": True})
    flag, booking, frames = review.flag_content_read(user=request.user, flag_id=flag.pk)
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


# --- the resource directory (staff) ----------------------------------------------------------------


@staff_member_required
@require_GET
def resource_list(request):
    form = forms.ResourceFilterForm(request.GET or None)
    resources = Resource.objects.order_by("kind", "region", "name")
    status = 200
    if form.is_bound:
        if form.is_valid():
            resources = form.filter(resources)
        else:
            resources, status = resources.none(), 400
    stale_before = timezone.localdate() - dt.timedelta(days=STALE_AFTER_DAYS)
    return render(
        request,
        "staff/resources.html",
        {"form": form, "resources": resources, "stale_before": stale_before},
        status=status,
    )


# --- a client's referrals and toolkits ------------------------------------------------------------------

TOOLKIT_KINDS = [Resource.Kind.BOOK, Resource.Kind.COURSE]
# The directory's language codes for each interface language.
READING_LANGUAGES = {"zh-hans": ["zh"], "en": ["en"]}


def _render_referrals(request, *, status: int = 200):
    referrals = review.referral_list_for_user(user=request.user).select_related(
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
    respond = review.referral_accept if answer == "accept" else review.referral_decline
    try:
        referral = respond(client=request.user, referral_id=referral_id)
    except Referral.DoesNotExist:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return _render_referrals(request, status=409)
    if referral.status == Referral.Status.ACCEPTED:
        messages.success(
            request, _("Accepted. We will check in with you in a week to see how it is going.")
        )
    else:
        messages.success(request, _("You declined the referral."))
    return redirect("referrals")
