"""The earnings pages: the counselor's monthly dashboard (/earnings/, with a plot by week drawn
server-side as inline SVG) and staff's platform summary (/staff/earnings/). They render the
same selectors as the API."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing import forms
from billing.selectors import Statement, counselor_statement, month_bounds, platform_summary
from core.pages import counselor_required, staff_member_required


def week_plot(statement: Statement) -> dict:
    """A bar plot of what was earned each week of the month (Monday-based weeks in the
    counselor's zone), scaled to the largest week; negative weeks (reversals) hang below."""
    weeks = statement.weeks()
    width, height, left, top_pad, bottom = 640, 220, 56, 16, 32
    high = max([Decimal(0), *(v for _d, v in weeks)])
    low = min([Decimal(0), *(v for _d, v in weeks)])
    span = float(high - low) or 1.0

    def y(value) -> float:
        return round(top_pad + (float(high) - float(value)) / span * (height - top_pad - bottom), 1)

    slot = (width - left - 16) / max(1, len(weeks))
    bars = []
    for i, (monday, value) in enumerate(weeks):
        top, base = sorted((y(value), y(0)))
        bars.append(
            {
                "x": round(left + i * slot + slot * 0.15, 1),
                "width": round(slot * 0.7, 1),
                "y": top,
                "height": max(round(base - top, 1), 0.5 if value else 0),
                "label": monday.strftime("%m-%d"),
                "value": value,
                "negative": value < 0,
                "mid": round(left + i * slot + slot / 2, 1),
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 16,
        "zero": y(0),
        "top": y(high),
        "high": high,
        "baseline": height - bottom,
        "bars": bars,
    }


def _month_form(request) -> forms.MonthForm:
    today = timezone.now().astimezone(ZoneInfo(request.user.timezone)).date()
    return forms.MonthForm(request.GET or None, today=today)


@never_cache
@counselor_required
@require_GET
def earnings(request):
    form = _month_form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "billing/earnings.html", {"form": form}, status=400)
    statement = counselor_statement(user=request.user, month=form.chosen_month())
    return render(
        request,
        "billing/earnings.html",
        {
            "form": form,
            "statement": statement,
            "totals": statement.totals,
            "plot": week_plot(statement),
            "month_param": statement.month.strftime("%Y-%m"),
        },
    )


@never_cache
@staff_member_required
@require_GET
def platform(request):
    form = _month_form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "billing/platform.html", {"form": form}, status=400)
    month = form.chosen_month()
    start, end = month_bounds(month, ZoneInfo(request.user.timezone))
    return render(
        request,
        "billing/platform.html",
        {
            "form": form,
            "month": month,
            "summary": platform_summary(user=request.user, start=start, end=end),
        },
    )
