"""Pages of the safety kernel: crisis lines for anyone (/help/), the on-call crisis queue
(/oncall/) and the resource directory for staff (/staff/resources/). Thin: forms check the
input, ethics.services does the work."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.timezone_middleware import viewer_zone_name
from core.pages import (
    form_submit,
    responder_required,
    staff_member_required,
    with_contact_links,
)
from ethics import forms
from ethics.models import CrisisAlert, OnCallShift, Resource
from ethics.selectors import alert_queue
from ethics.services import alert_acknowledge, alert_resolve, crisis_hotlines_for, hotlines_all

RESOLVED_SHOWN = 50
STALE_AFTER_DAYS = 365  # a directory entry not checked for a year is marked for re-checking


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
    status = 400
    if form.is_valid():
        try:
            done = form_submit(
                form,
                alert_acknowledge,
                alert_id=alert_id,
                user=request.user,
                note=form.cleaned_data["note"],
            )
        except CrisisAlert.DoesNotExist:
            raise Http404 from None
        if done.ok:
            messages.success(
                request,
                _("Alert %(id)s acknowledged. The other responders see it at once.")
                % {"id": alert_id},
            )
            return redirect(reverse("ethics:oncall") + f"#alert-{alert_id}")
        status = done.status
    return _render_oncall(request, bound={("ack", alert_id): form}, status=status)


@responder_required
@require_POST
def alert_resolve_view(request, alert_id: int):
    form = forms.ResolveAlertForm(request.POST, id_prefix=f"resolve{alert_id}")
    status = 400
    if form.is_valid():
        try:
            done = form_submit(
                form,
                alert_resolve,
                alert_id=alert_id,
                user=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except CrisisAlert.DoesNotExist:
            raise Http404 from None
        if done.ok:
            messages.success(request, _("Alert %(id)s resolved.") % {"id": alert_id})
            return redirect("ethics:oncall")
        status = done.status
    return _render_oncall(request, bound={("resolve", alert_id): form}, status=status)


# --- the flag review ---------------------------------------------------------------------------


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


# --- crisis lines, for anyone ----------------------------------------------------------------------


def help_page(request):
    """Crisis lines, one click from every page: the viewer's region first (from their zone),
    then every other hotline in the directory."""
    viewer = (
        request.user
        if request.user.is_authenticated
        else User(
            timezone=viewer_zone_name(request) or "",
            language="en" if (get_language() or "").startswith("en") else "zh-hans",
        )
    )
    yours = crisis_hotlines_for(user=viewer)
    shown = {(h["name"], h["contact"]) for h in yours}
    others = [h for h in hotlines_all() if (h["name"], h["contact"]) not in shown]
    return render(
        request,
        "accounts/help.html",
        {
            "yours": [with_contact_links(h) for h in yours],
            "others": [with_contact_links(h) for h in others],
        },
    )
