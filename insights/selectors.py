"""The insights reads: every one an aggregate over the anonymised facts, suppressed before it
leaves this module (insights/suppression.py). No function here returns a fact row, and none
reads a live table about one client.

`insights_for_user` is the staff view of the platform and, with `organisation`, an
organisation admin's slice: the session facts its allowance paid for (`organisation_id`),
only sessions used and topics by month (ORGANISATION_TABLES), suppressed like every table.
`counselor_outcomes_for_user` is a counselor's own figures."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, StdDev, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from scipy import stats

from core.sessions import SessionMode
from insights.models import (
    DutySample,
    InsightsRun,
    KeywordFact,
    OfferFact,
    RequestFact,
    SessionFact,
)
from insights.suppression import Entry, K, Table, suppress
from organisations.selectors import organisation_admin_may_read

KEYWORDS_SHOWN = 30


class PercentileCont(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass
class Period:
    """A range of whole ISO weeks: the facts keep the week, not the day."""

    date_from: dt.date
    date_to: dt.date

    @property
    def weeks(self) -> Q:
        first = self.date_from - dt.timedelta(days=self.date_from.weekday())
        return Q(week__gte=first, week__lte=self.date_to)


def _rate(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 3) if whole else None


# --- Outcomes ------------------------------------------------------------------------------

CHANGE = F("post_distress") - F("pre_distress")
FEEDBACK = Q(feedback_given=True)


def _outcome_aggregates(return_field: str) -> dict:
    return {
        "sessions": Count("id"),
        "clients": Count("client_key", distinct=True),
        "feedback_clients": Count("client_key", distinct=True, filter=FEEDBACK),
        "feedback": Count("id", filter=FEEDBACK),
        "mean_change": Avg(CHANGE, filter=FEEDBACK, output_field=FloatField()),
        "sd_change": StdDev(CHANGE, sample=True, filter=FEEDBACK, output_field=FloatField()),
        "reduced_2": Count("id", filter=FEEDBACK & Q(pre_distress__gte=F("post_distress") + 2)),
        "returned": Count("id", filter=Q(**{return_field: True})),
        "return_known": Count("id", filter=Q(**{f"{return_field}__isnull": False})),
        "referrals": Count("id", filter=Q(referral_made=True)),
        "referrals_accepted": Count("id", filter=Q(referral_accepted=True)),
    }


def outcome_figures(row: dict) -> dict:
    """The shown figures of one cell from its sums: mean change (post − pre, negative is
    better) with a 95% t-interval, the share reduced by 2 or more, and the rates."""
    n = row["feedback"]
    mean = row["mean_change"]
    low = high = None
    if n >= 2 and row["sd_change"] is not None:
        half = stats.t.ppf(0.975, n - 1) * row["sd_change"] / math.sqrt(n)
        low, high = round(mean - half, 2), round(mean + half, 2)
    return {
        "feedback": n,
        "mean_change": round(mean, 2) if mean is not None else None,
        "ci_low": low,
        "ci_high": high,
        "reduced_2_share": _rate(row["reduced_2"], n),
        "response_rate": _rate(n, row["sessions"]),
        "return_30d_rate": _rate(row["returned"], row["return_known"]),
        "referral_acceptance_rate": _rate(row["referrals_accepted"], row["referrals"]),
    }


def _outcome_entry(row: dict) -> Entry:
    # k counts the clients behind the cell, and also those behind its distress figures: a
    # cell of 8 clients where 1 gave feedback would show that one client's change.
    clients = row["clients"]
    if row["feedback_clients"]:
        clients = min(clients, row["feedback_clients"])
    return Entry(value=row["sessions"], clients=clients, extra=outcome_figures(row))


def _outcome_table(name: str, facts, dimension: str, labels: dict, return_field: str) -> Table:
    aggregates = _outcome_aggregates(return_field)
    rows = {
        row[dimension]: row
        for row in facts.values(dimension).annotate(**aggregates).order_by("-sessions", dimension)
    }
    keys = list(rows)
    if dimension == "topic":
        # A topic is free text: its name alone could point at someone, so it is named only
        # when K distinct clients raised it; the rest are one row, "Other topics".
        keys = [key for key in keys if rows[key]["clients"] >= K]
    row_labels = [labels.get(key, str(key)) for key in keys]
    cells = [[_outcome_entry(rows[key])] for key in keys]
    if len(keys) < len(rows):
        row_labels.append(str(_("Other topics")))
        cells.append([_outcome_entry(facts.exclude(topic__in=keys).aggregate(**aggregates))])
    grand = facts.aggregate(**aggregates)
    return suppress(
        Table(
            name=name,
            row_labels=row_labels,
            col_labels=[_("Sessions")],
            cells=cells,
            col_totals=[_outcome_entry(grand)],
        )
    )


def _duration_labels() -> dict:
    return {15: _("15 minutes"), 30: _("30 minutes")}


def _outcome_tables(facts, return_field: str) -> dict[str, Table]:
    modes = dict(SessionMode.choices)
    return {
        "outcomes_by_topic": _outcome_table("outcomes_by_topic", facts, "topic", {}, return_field),
        "outcomes_by_mode": _outcome_table("outcomes_by_mode", facts, "mode", modes, return_field),
        "outcomes_by_duration": _outcome_table(
            "outcomes_by_duration", facts, "duration_minutes", _duration_labels(), return_field
        ),
    }


def _change_over_time(facts) -> Table:
    """Mean distress change by month, for the counselor's plot."""
    aggregates = _outcome_aggregates("returned_same_30d")
    rows = list(
        facts.annotate(month=TruncMonth("week"))
        .values("month")
        .annotate(**aggregates)
        .order_by("month")
    )
    return suppress(
        Table(
            name="change_over_time",
            row_labels=[row["month"].strftime("%Y-%m") for row in rows],
            col_labels=[_("Sessions")],
            cells=[[_outcome_entry(row)] for row in rows],
            col_totals=[_outcome_entry(facts.aggregate(**aggregates))],
        )
    )


# --- Requests ------------------------------------------------------------------------------


def _heat_map(requests) -> Table:
    cells = {
        (row["weekday"], row["hour"]): row
        for row in requests.values("weekday", "hour").annotate(
            n=Count("id"), clients=Count("client_key", distinct=True)
        )
    }

    def margin(field: str) -> dict:
        return {
            row[field]: Entry(row["n"], row["clients"])
            for row in requests.values(field).annotate(
                n=Count("id"), clients=Count("client_key", distinct=True)
            )
        }

    by_day, by_hour = margin("weekday"), margin("hour")
    grand = requests.aggregate(n=Count("id"), clients=Count("client_key", distinct=True))
    return suppress(
        Table(
            name="heat_map",
            row_labels=[
                _("Monday"),
                _("Tuesday"),
                _("Wednesday"),
                _("Thursday"),
                _("Friday"),
                _("Saturday"),
                _("Sunday"),
            ],
            col_labels=[f"{hour:02d}" for hour in range(24)],
            cells=[
                [
                    Entry(cells[(d, h)]["n"], cells[(d, h)]["clients"])
                    if (d, h) in cells
                    else Entry(0, 0)
                    for h in range(24)
                ]
                for d in range(7)
            ],
            row_totals=[by_day.get(d, Entry(0, 0)) for d in range(7)],
            col_totals=[by_hour.get(h, Entry(0, 0)) for h in range(24)],
            grand=Entry(grand["n"], grand["clients"]),
        )
    )


def _request_aggregates() -> dict:
    matched = Q(outcome=RequestFact.Outcome.MATCHED)
    return {
        "n": Count("id"),
        "clients": Count("client_key", distinct=True),
        "matched": Count("id", filter=matched),
        "no_match": Count("id", filter=Q(outcome=RequestFact.Outcome.NO_MATCH)),
        "p50": PercentileCont("wait_seconds", 0.5, filter=matched),
        "p90": PercentileCont("wait_seconds", 0.9, filter=matched),
        "p95": PercentileCont("wait_seconds", 0.95, filter=matched),
    }


def _request_entry(row: dict) -> Entry:
    closed = row["matched"] + row["no_match"]
    extra = {
        "matched": row["matched"],
        "no_match": row["no_match"],
        "no_match_rate": _rate(row["no_match"], closed),
        **{p: round(row[p]) if row[p] is not None else None for p in ("p50", "p90", "p95")},
    }
    return Entry(row["n"], row["clients"], extra=extra)


def _waits(requests) -> Table:
    """Talk-now requests by topic: wait-time percentiles (matched requests) and the no-match
    rate (of requests that ended matched or unmatched), with the all-topics total."""
    rows = list(requests.values("topic").annotate(**_request_aggregates()).order_by("-n", "topic"))
    return suppress(
        Table(
            name="wait_times",
            row_labels=[row["topic"] for row in rows],
            col_labels=[_("Requests")],
            cells=[[_request_entry(row)] for row in rows],
            col_totals=[_request_entry(requests.aggregate(**_request_aggregates()))],
        )
    )


def _top_topics(sessions, requests) -> Table:
    """Topics by distinct clients who raised them, in sessions and in talk-now requests."""
    topics: dict[str, dict] = {}
    for kind, facts in (("sessions", sessions), ("requests", requests)):
        for row in facts.values("topic").annotate(
            n=Count("id"), clients=Count("client_key", distinct=True)
        ):
            topics.setdefault(row["topic"], {})[kind] = row
    # A topic is named only when K distinct clients raised it in sessions or in requests (its
    # free text alone could point at someone); the rest are one row, "Other topics".
    named = [t for t in topics if any(r["clients"] >= K for r in topics[t].values())]
    order = sorted(named, key=lambda t: -sum(r["n"] for r in topics[t].values()))

    def entry(row: dict | None) -> Entry:
        return Entry(row["n"], row["clients"]) if row else Entry(0, 0)

    def total(facts) -> Entry:
        row = facts.aggregate(n=Count("id"), clients=Count("client_key", distinct=True))
        return Entry(row["n"], row["clients"])

    labels = list(order)
    cells = [[entry(topics[t].get("sessions")), entry(topics[t].get("requests"))] for t in order]
    if len(named) < len(topics):
        labels.append(str(_("Other topics")))
        cells.append(
            [total(sessions.exclude(topic__in=named)), total(requests.exclude(topic__in=named))]
        )
    return suppress(
        Table(
            name="top_topics",
            row_labels=labels,
            col_labels=[_("Sessions"), _("Talk-now requests")],
            cells=cells,
            col_totals=[total(sessions), total(requests)],
        )
    )


def _keywords(period: Period) -> Table:
    """Words from feedback by the distinct clients who used them; a word used by fewer than
    k clients is left out entirely (no totals here: one comment gives several words)."""
    rows = (
        KeywordFact.objects.filter(period.weeks)
        .values("language", "word")
        .annotate(clients=Count("client_key", distinct=True))
        .filter(clients__gte=K)
        .order_by("-clients", "word")[:KEYWORDS_SHOWN]
    )
    rows = list(rows)
    return suppress(
        Table(
            name="keywords",
            row_labels=[row["word"] for row in rows],
            col_labels=[_("Clients")],
            cells=[
                [Entry(row["clients"], row["clients"], extra={"language": row["language"]})]
                for row in rows
            ],
        )
    )


def _fairness(period: Period) -> Table:
    """Exposure fairness: the share of talk-now offers that went to counselors in their first
    30 days against their share of duty time. It counts counselors' work, not clients, so it
    is not a client cell; staff see counselors by name elsewhere."""
    offers = dict(
        OfferFact.objects.filter(period.weeks)
        .values_list("new_counselor")
        .annotate(n=Sum("offers"))
        .values_list("new_counselor", "n")
    )
    start = dt.datetime.combine(period.date_from, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(period.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    duty = DutySample.objects.filter(taken_at__gte=start, taken_at__lt=end).aggregate(
        all=Sum("on_duty"), new=Sum("on_duty_new")
    )
    all_offers = sum(offers.values())
    new_offers = offers.get(True, 0)
    duty_all, duty_new = duty["all"] or 0, duty["new"] or 0
    figures = [
        (new_offers, duty_new),
        (all_offers - new_offers, duty_all - duty_new),
    ]
    return Table(
        name="exposure_fairness",
        row_labels=[_("Counselors in their first 30 days"), _("Other counselors")],
        col_labels=[_("Offers")],
        cells=[
            [
                Entry(
                    offers_n,
                    K,
                    extra={
                        "offer_share": _rate(offers_n, all_offers),
                        "duty_share": _rate(duty_minutes, duty_all),
                        "duty_minutes": duty_minutes,
                    },
                )
            ]
            for offers_n, duty_minutes in figures
        ],
    )


# --- An organisation's usage ------------------------------------------------------------------


def _month_label(month: dt.date) -> str:
    return month.strftime("%Y-%m")


def _sessions_by_month(facts) -> Table:
    """Sponsored sessions used, by month (of the session's ISO week), with the total."""
    rows = list(
        facts.annotate(month=TruncMonth("week"))
        .values("month")
        .annotate(n=Count("id"), clients=Count("client_key", distinct=True))
        .order_by("month")
    )
    grand = facts.aggregate(n=Count("id"), clients=Count("client_key", distinct=True))
    return suppress(
        Table(
            name="sessions_by_month",
            row_labels=[_month_label(row["month"]) for row in rows],
            col_labels=[_("Sessions")],
            cells=[[Entry(row["n"], row["clients"])] for row in rows],
            col_totals=[Entry(grand["n"], grand["clients"])],
        )
    )


def _topics_by_month(facts) -> Table:
    """Sponsored sessions by topic (rows) and month (columns), with both margins and the
    grand total: the cross-table is where complementary suppression matters most. A topic is
    named only when K distinct clients raised it (an organisation is small, and a topic is
    free text: its name alone could point at someone); the rest are one row, "Other topics"."""
    aggregates = {"n": Count("id"), "clients": Count("client_key", distinct=True)}
    by_month = facts.annotate(month=TruncMonth("week"))
    months = sorted({row["month"] for row in by_month.values("month").distinct()})
    topic_rows = list(facts.values("topic").annotate(**aggregates))
    named = [
        row["topic"]
        for row in sorted(topic_rows, key=lambda row: (-row["n"], row["topic"]))
        if row["clients"] >= K
    ]
    rest = by_month.exclude(topic__in=named)

    def entries(rows, key) -> dict:
        return {key(row): Entry(row["n"], row["clients"]) for row in rows}

    cells = entries(
        by_month.filter(topic__in=named).values("topic", "month").annotate(**aggregates),
        lambda row: (row["topic"], row["month"]),
    )
    totals = entries(
        facts.filter(topic__in=named).values("topic").annotate(**aggregates),
        lambda row: row["topic"],
    )
    rest_cells = entries(rest.values("month").annotate(**aggregates), lambda row: row["month"])
    rest_total = rest.aggregate(**aggregates)
    columns = entries(by_month.values("month").annotate(**aggregates), lambda row: row["month"])
    grand = facts.aggregate(**aggregates)
    labels, grid, row_totals = list(named), [], [totals[topic] for topic in named]
    for topic in named:
        grid.append([cells.get((topic, month), Entry(0, 0)) for month in months])
    if rest_total["n"]:
        labels.append(_("Other topics"))
        grid.append([rest_cells.get(month, Entry(0, 0)) for month in months])
        row_totals.append(Entry(rest_total["n"], rest_total["clients"]))
    return suppress(
        Table(
            name="topics_by_month",
            row_labels=labels,
            col_labels=[_month_label(month) for month in months],
            cells=grid,
            row_totals=row_totals,
            col_totals=[columns[month] for month in months],
            grand=Entry(grand["n"], grand["clients"]),
        )
    )


# --- Entry points -------------------------------------------------------------------------

STAFF_TABLES = (
    "top_topics", "heat_map", "wait_times", "outcomes_by_topic", "outcomes_by_mode",
    "outcomes_by_duration", "keywords", "exposure_fairness",
)  # fmt: skip
# An organisation admin sees these only: no outcomes, no keywords, nothing of talk-now.
ORGANISATION_TABLES = ("sessions_by_month", "topics_by_month")
COUNSELOR_TABLES = (
    "outcomes_by_topic",
    "outcomes_by_mode",
    "outcomes_by_duration",
    "change_over_time",
)


def insights_built_at() -> dt.datetime | None:
    run = InsightsRun.objects.filter(pk=1).first()
    return run.built_at if run else None


def insights_for_user(*, user, period: Period, organisation=None) -> dict[str, Table]:
    """The platform's insights for staff, over `period`; with `organisation`, that
    organisation's sponsored usage (ORGANISATION_TABLES) for one of its admins. Raises
    PermissionDenied for anyone but staff (no organisation) or the organisation's admin."""
    if organisation is not None:
        if not organisation_admin_may_read(user=user, organisation=organisation):
            raise PermissionDenied
        facts = SessionFact.objects.filter(period.weeks, organisation_id=organisation.pk)
        return {
            "sessions_by_month": _sessions_by_month(facts),
            "topics_by_month": _topics_by_month(facts),
        }
    if not user.is_staff_member:
        raise PermissionDenied
    sessions = SessionFact.objects.filter(period.weeks)
    requests = RequestFact.objects.filter(period.weeks)
    return {
        "top_topics": _top_topics(sessions, requests),
        "heat_map": _heat_map(requests),
        "wait_times": _waits(requests),
        **_outcome_tables(sessions, "returned_any_30d"),
        "keywords": _keywords(period),
        "exposure_fairness": _fairness(period),
    }


def counselor_outcomes_for_user(*, user, period: Period) -> dict[str, Table]:
    """The counselor's own outcome figures (return = to the same counselor). Raises
    PermissionDenied for anyone but a counselor."""
    if not user.is_counselor:
        raise PermissionDenied
    facts = SessionFact.objects.filter(period.weeks, counselor_id=user.pk)
    return {
        **_outcome_tables(facts, "returned_same_30d"),
        "change_over_time": _change_over_time(facts),
    }


def table_as_dict(table: Table) -> dict:
    """The one rendering of a suppressed table, for the API and the page: a hidden entry has
    no value and no figures, only `suppressed: true`."""

    def entry(item: Entry | None) -> dict | None:
        if item is None:
            return None
        if item.suppressed:
            return {"value": None, "suppressed": True}
        return {"value": item.value, "suppressed": False, **item.extra}

    return {
        "name": table.name,
        "columns": table.col_labels,
        "rows": [
            {
                "label": label,
                "cells": [entry(cell) for cell in table.cells[r]],
                "total": entry(table.row_totals[r]) if table.row_totals else None,
            }
            for r, label in enumerate(table.row_labels)
        ],
        "column_totals": [entry(item) for item in table.col_totals] if table.col_totals else None,
        "grand_total": entry(table.grand),
    }
