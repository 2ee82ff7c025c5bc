"""The insights pages: the staff's page (/staff/insights/), the counselor's own outcomes
(/counselor/outcomes/) and the CSV of any of their tables. They render the same suppressed
tables as the API (insights.selectors), so a hidden cell is hidden everywhere alike."""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.pages import counselor_required, staff_member_required
from insights import forms
from insights.selectors import (
    COUNSELOR_TABLES,
    STAFF_TABLES,
    K,
    counselor_outcomes_for_user,
    insights_built_at,
    insights_for_user,
    table_as_dict,
)
from insights.suppression import Table

HIDDEN = "—"

# The figures a table's cells carry, in column order, with their headings.
FIGURES = {
    "outcomes": [
        ("feedback", gettext_lazy("Feedback given")),
        ("mean_change", gettext_lazy("Mean distress change")),
        ("ci_low", gettext_lazy("95% CI low")),
        ("ci_high", gettext_lazy("95% CI high")),
        ("reduced_2_share", gettext_lazy("Share reduced by 2 or more")),
        ("response_rate", gettext_lazy("Feedback response rate")),
        ("return_30d_rate", gettext_lazy("Returned within 30 days")),
        ("referral_acceptance_rate", gettext_lazy("Referrals accepted")),
    ],
    "wait_times": [
        ("matched", gettext_lazy("Matched")),
        ("no_match", gettext_lazy("No match")),
        ("no_match_rate", gettext_lazy("No-match rate")),
        ("p50", gettext_lazy("Median wait (s)")),
        ("p90", gettext_lazy("90th percentile wait (s)")),
        ("p95", gettext_lazy("95th percentile wait (s)")),
    ],
    "exposure_fairness": [
        ("offer_share", gettext_lazy("Share of offers")),
        ("duty_share", gettext_lazy("Share of duty time")),
        ("duty_minutes", gettext_lazy("Duty minutes")),
    ],
    "keywords": [("language", gettext_lazy("Language"))],
}


def _figures(name: str) -> list[tuple[str, str]]:
    if name.startswith("outcomes_by") or name == "change_over_time":
        return FIGURES["outcomes"]
    return FIGURES.get(name, [])


def _headings(name: str) -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in _figures(name)]


def table_view(table: Table) -> dict:
    """The template's view of a suppressed table: `table_as_dict` plus headings."""
    data = table_as_dict(table)
    data["figures"] = _headings(table.name)
    top = max(
        (c["value"] for row in data["rows"] for c in row["cells"] if c["value"] is not None),
        default=0,
    )
    for row in data["rows"]:
        for cell in row["cells"]:
            # Five shades for the heat map, from the largest shown cell.
            cell["shade"] = min(5, 1 + int(4 * cell["value"] / top)) if top and cell["value"] else 0
            cell["figures"] = [cell.get(key) for key, _label in data["figures"]]
    for cell in data["column_totals"] or []:
        cell["figures"] = [cell.get(key) for key, _label in data["figures"]]
    return data


def change_plot(table: Table) -> dict | None:
    """An SVG line plot of mean distress change by month (shown months only), with its
    95% intervals; None when fewer than one month is shown."""
    points = [
        (label, row[0].extra)
        for label, row in zip(table.row_labels, table.cells, strict=True)
        if not row[0].suppressed and row[0].extra.get("mean_change") is not None
    ]
    if not points:
        return None
    width, height, left, top_pad, bottom = 640, 240, 48, 16, 32
    low = min(-5.0, *(p[1]["ci_low"] or p[1]["mean_change"] for p in points))
    high = max(1.0, *(p[1]["ci_high"] or p[1]["mean_change"] for p in points))
    span = high - low or 1.0

    def y(value: float) -> float:
        return round(top_pad + (high - value) / span * (height - top_pad - bottom), 1)

    step = (width - left - 16) / max(1, len(points) - 1)
    marks = []
    for i, (label, figures) in enumerate(points):
        x = round(left + (i * step if len(points) > 1 else (width - left) / 2), 1)
        marks.append(
            {
                "x": x,
                "y": y(figures["mean_change"]),
                "y_low": y(figures["ci_low"]) if figures["ci_low"] is not None else None,
                "y_high": y(figures["ci_high"]) if figures["ci_high"] is not None else None,
                "label": label,
                "mean": figures["mean_change"],
            }
        )
    ticks = [
        {"y": y(v), "value": v} for v in range(int(low), int(high) + 1) if v % 2 == 0 or v == 0
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 16,
        "zero": y(0),
        "ticks": ticks,
        "marks": marks,
        "path": " ".join(f"{'M' if i == 0 else 'L'}{m['x']},{m['y']}" for i, m in enumerate(marks)),
        "baseline": height - bottom,
    }


def _period(request):
    form = forms.PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, form.period()


def _csv(name: str, table: Table, filename: str) -> HttpResponse:
    data = table_as_dict(table)
    figures = _headings(name)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese labels as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [_("Row"), *data["columns"], *(label for _key, label in figures)]
        + ([_("Total")] if table.row_totals else [])
    )

    def shown(cell: dict | None, key: str = "value"):
        if cell is None:
            return ""
        return HIDDEN if cell["suppressed"] else ("" if cell.get(key) is None else cell.get(key))

    for row in data["rows"]:
        first = row["cells"][0]
        writer.writerow(
            [row["label"], *(shown(c) for c in row["cells"])]
            + [shown(first, key) for key, _label in figures]
            + ([shown(row["total"])] if table.row_totals else [])
        )
    if data["column_totals"]:
        first = data["column_totals"][0]
        writer.writerow(
            [_("Total"), *(shown(c) for c in data["column_totals"])]
            + [shown(first, key) for key, _label in figures]
            + ([shown(data["grand_total"])] if table.row_totals else [])
        )
    return response


@never_cache
@staff_member_required
@require_GET
def insights(request):
    form, period = _period(request)
    context = {
        "form": form,
        "k": K,
        "built_at": insights_built_at(),
        "query": request.GET.urlencode(),
        "platform_zone": settings.PLATFORM_TIME_ZONE,
    }
    if period is None:
        return render(request, "insights/insights.html", context, status=400)
    tables = insights_for_user(user=request.user, period=period)
    context.update(period=period, tables={name: table_view(t) for name, t in tables.items()})
    return render(request, "insights/insights.html", context)


@never_cache
@staff_member_required
@require_GET
def insights_export(request, table: str):
    if table not in STAFF_TABLES:
        raise Http404
    _form, period = _period(request)
    if period is None:
        return HttpResponse(_("Check the dates."), status=400, content_type="text/plain")
    tables = insights_for_user(user=request.user, period=period)
    return _csv(table, tables[table], f"pianke-{table}-{period.date_from}-{period.date_to}.csv")


@never_cache
@counselor_required
@require_GET
def outcomes(request):
    form, period = _period(request)
    context = {
        "form": form,
        "k": K,
        "built_at": insights_built_at(),
        "query": request.GET.urlencode(),
    }
    if period is None:
        return render(request, "insights/outcomes.html", context, status=400)
    tables = counselor_outcomes_for_user(user=request.user, period=period)
    context.update(
        period=period,
        tables={name: table_view(t) for name, t in tables.items()},
        plot=change_plot(tables["change_over_time"]),
    )
    return render(request, "insights/outcomes.html", context)


@never_cache
@counselor_required
@require_GET
def outcomes_export(request, table: str):
    if table not in COUNSELOR_TABLES:
        raise Http404
    _form, period = _period(request)
    if period is None:
        return HttpResponse(_("Check the dates."), status=400, content_type="text/plain")
    tables = counselor_outcomes_for_user(user=request.user, period=period)
    return _csv(table, tables[table], f"pianke-my-{table}-{period.date_from}-{period.date_to}.csv")
