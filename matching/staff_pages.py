"""Staff pages for surges (/staff/surges/): declare, change, end, and the live figures. The
decisions are matching.services (surge_declare, surge_update, surge_end), as for the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pages import form_submit, staff_member_required
from matching import forms
from matching.models import Surge
from matching.selectors import (
    surge_call_counts,
    surge_events,
    surge_figures,
    surge_get_for_staff,
    surge_regions_known,
    surge_state,
    surges_for_staff,
)
from matching.services import surge_declare, surge_end, surge_update


def _row(surge: Surge) -> dict:
    return {
        "surge": surge,
        "state": surge_state(surge),
        "figures": surge_figures(surge),
        "calls": surge_call_counts(surge),
    }


@staff_member_required
def surges(request):
    """The list with live figures, and the form to declare a surge."""
    regions = surge_regions_known()
    status = 200
    if request.method == "POST":
        form = forms.SurgeForm(request.POST, regions=regions)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            done = form_submit(
                form,
                surge_declare,
                actor=request.user,
                region=data["region"],
                languages=data["languages"],
                specialty=data["specialty"] or None,
                banner_en=data["banner_en"],
                banner_zh=data["banner_zh"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
            if done.ok:
                messages.success(
                    request, _("The surge is declared; the reserve pool is being called up.")
                )
                return redirect("matching:staff-surge-detail", surge_id=done.result.pk)
            status = done.status
    else:
        form = forms.SurgeForm(regions=regions)
    rows = [_row(s) for s in surges_for_staff()[:50]]
    return render(request, "staff/surges.html", {"rows": rows, "form": form}, status=status)


def _surge_or_404(surge_id: int) -> Surge:
    try:
        return surge_get_for_staff(surge_id=surge_id)
    except Surge.DoesNotExist:
        raise Http404 from None


@staff_member_required
def surge_detail(request, surge_id: int):
    """One surge: figures, call-ups, the audit trail, and the form to change banners or end."""
    surge = _surge_or_404(surge_id)
    status = 200
    if request.method == "POST":
        form = forms.SurgeUpdateForm(request.POST)
        status = 400
        if form.is_valid():
            done = form_submit(
                form, surge_update, actor=request.user, surge_id=surge.pk, **form.cleaned_data
            )
            if done.ok:
                messages.success(request, _("The surge is updated."))
                return redirect("matching:staff-surge-detail", surge_id=surge.pk)
            status = done.status
    else:
        form = forms.SurgeUpdateForm(
            initial={
                "banner_zh": surge.banner_zh,
                "banner_en": surge.banner_en,
                "ends_at": timezone.localtime(surge.ends_at).strftime("%Y-%m-%dT%H:%M"),
            }
        )
    context = {**_row(surge), "form": form, "events": surge_events(surge)}
    return render(request, "staff/surge_detail.html", context, status=status)


@staff_member_required
@require_POST
def surge_end_page(request, surge_id: int):
    surge = _surge_or_404(surge_id)
    surge_end(actor=request.user, surge_id=surge.pk)  # a Conflict (already ended): the 409 page
    messages.success(request, _("The surge has ended; the normal rules apply again."))
    return redirect("matching:staff-surge-detail", surge_id=surge.pk)
