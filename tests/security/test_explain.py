"""The directory, the slot search and the queue claims read through indexes, shown by the
planner: each test fills the tables to a realistic size (thousands of counselors, tens of
thousands of bookings, reminders, requests and alerts, nearly all of them done with), runs
ANALYZE so the planner knows it, runs the real code path capturing its SQL, and asks PostgreSQL
to EXPLAIN (FORMAT JSON) exactly that SQL. On a table of a few rows a sequential scan is the
right plan (one page), so the sizes are what make the answer mean something.

Rows are copied in SQL from one template row made by the factories (INSERT … SELECT over
generate_series), so a hundred thousand rows cost a second, not a minute."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ethics.models import CrisisAlert
from listening.models import Booking, Reminder
from matching.models import MatchRequest
from tests.factories import (
    BookingFactory,
    ClientFactory,
    CounselorProfileFactory,
    OneOffWindowFactory,
    ReminderFactory,
    WeeklyWindowFactory,
    next_quarter,
)

pytestmark = pytest.mark.django_db


def _cols(columns) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


def clone(model, template, n: int, **overrides: str) -> None:
    """Insert `n` copies of `template` (a saved row), each column taken from it unless
    `overrides` gives an SQL expression for it, in which `g` is the copy's number (1…n)."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = [overrides.get(c, f'"{c}"') for c in columns]
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({_cols(columns)}) '
            f'SELECT {", ".join(values)} FROM "{table}", generate_series(1, %s) AS g '
            f'WHERE "{table}"."{pk}" = %s',
            [n, template.pk],
        )


def analyze(*models) -> None:
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def plan_of(sql: str) -> dict:
    """The plan with sequential scans priced out (enable_seqscan=off): a table is then read
    sequentially only if no index can serve the query at all. Whether the planner would
    prefer an index on its own depends on the table's size against its cost constants, which
    varies with the machine's statistics and the test's rows; whether an index *can* serve the
    query (its columns, its operator class, its partial predicate) does not."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            raw = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def scans(plan: dict) -> list[tuple[str, str | None, str | None]]:
    """(node type, relation, index) of every scan in the plan tree."""
    found = []
    if "Relation Name" in plan or "Index Name" in plan:
        found.append((plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name")))
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


def captured(run, table: str, *, contains: str = "") -> str:
    """The SQL `run()` sends that reads `table` (the first such SELECT containing `contains`)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    for query in queries.captured_queries:
        sql = query["sql"]
        if (
            sql.lstrip(" (").upper().startswith("SELECT")  # "(SELECT …) UNION …" too
            and f'FROM "{table}"' in sql
            and contains in sql
        ):
            return sql
    raise AssertionError(
        f"no SELECT on {table} containing {contains!r} among:\n"
        + "\n".join(q["sql"][:200] for q in queries.captured_queries)
    )


def indexes_leading_with(table: str, column: str) -> tuple[str, ...]:
    """The names of the table's indexes whose first column is `column`."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return tuple(
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] and c["columns"][0] == column
    )


def assert_uses_index(sql: str, table: str, index: str | tuple[str, ...] | None = None) -> None:
    """No sequential scan of `table`, and (if given) one of the `index` names in the plan.
    Where two indexes both serve the query, the planner's choice between them depends on their
    sizes, so a test names both rather than the one it happens to pick."""
    found = scans(plan_of(sql))
    on_table = [s for s in found if s[1] == table or (s[2] or "").startswith(table[:10])]
    assert on_table, f"the plan does not read {table}: {found}"
    assert not any(kind == "Seq Scan" for kind, rel, _ in on_table if rel == table), (
        f"a sequential scan of {table}: {found}\n{sql}"
    )
    if index is not None:
        wanted = (index,) if isinstance(index, str) else index
        assert any(ix in wanted for _, _, ix in found), f"{wanted} not used: {found}\n{sql}"


# --- The directory and the slots -----------------------------------------------------------


@pytest.fixture
def directory():
    """2,000 listed counselors, one in a hundred speaking Japanese, each with a weekly window
    and a one-off window, and 20,000 bookings among them."""
    from accounts.models import User
    from counselors.models import AvailabilityWindow, CounselorProfile

    template = CounselorProfileFactory(user__username="x-template")
    first_user = User.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    clone(
        User,
        template.user,
        1999,
        username="'x-' || g",
        email="'x-' || g || '@example.org'",
    )
    new_users = list(
        User.objects.filter(pk__gte=first_user, username__startswith="x-").values_list(
            "pk", flat=True
        )
    )
    with connection.cursor() as cursor:
        columns = [
            f.column for f in CounselorProfile._meta.concrete_fields if f.column != "user_id"
        ]
        cursor.execute(
            f'INSERT INTO "counselors_counselorprofile" ("user_id", '
            f"{_cols(columns)}) "
            f"SELECT u, {', '.join(_profile_column(c) for c in columns)} "
            f'FROM "counselors_counselorprofile", unnest(%s::bigint[]) AS u '
            f'WHERE "user_id" = %s',
            [new_users, template.pk],
        )
    weekly = WeeklyWindowFactory(counselor=template)
    one_off = OneOffWindowFactory(counselor=template, start=next_quarter(days=3))
    for window in (weekly, one_off):
        _clone_per_counselor(AvailabilityWindow, window, new_users)
    booking = BookingFactory(counselor=template, start=next_quarter(days=2))
    client_ids = list(User.objects.filter(role=User.Role.CLIENT).values_list("pk", flat=True))
    _clone_bookings(booking, new_users + [template.pk], client_ids[0])
    analyze(User, CounselorProfile, AvailabilityWindow, Booking)
    return template


def _profile_column(column: str) -> str:
    # One counselor in a hundred speaks Japanese (a selective filter, as most languages are).
    if column == "languages":
        return "CASE WHEN u %% 100 = 0 THEN ARRAY['ja', 'en'] ELSE \"languages\" END"
    return f'"{column}"'


def _clone_per_counselor(model, template, counselor_ids: list[int]) -> None:
    table = model._meta.db_table
    columns = [
        f.column
        for f in model._meta.concrete_fields
        if not f.primary_key and f.column != "counselor_id"
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ("counselor_id", {_cols(columns)}) '
            f"SELECT u, {_cols(columns)} "
            f'FROM "{table}", unnest(%s::bigint[]) AS u WHERE "{table}"."id" = %s',
            [counselor_ids, template.pk],
        )


def _clone_bookings(template: Booking, counselor_ids: list[int], client_id: int) -> None:
    """Ten past sessions per counselor, all of one client, each half an hour before the last
    (the constraints against double booking hold for the counselor and the client)."""
    columns = [
        f.column
        for f in Booking._meta.concrete_fields
        if not f.primary_key and f.column not in ("counselor_id", "client_id", "start", "end")
    ]
    shift = "(g * 10000 + n) * interval '30 minutes'"
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "listening_booking" ("counselor_id", "client_id", "start", "end", '
            f"{_cols(columns)}) "
            f'SELECT u, %s, "start" - {shift}, "end" - {shift}, '
            f"{_cols(columns)} "
            f'FROM "listening_booking", unnest(%s::bigint[]) WITH ORDINALITY AS c(u, n), '
            f"generate_series(1, 10) AS g "
            f'WHERE "listening_booking"."id" = %s',
            [client_id, counselor_ids, template.pk],
        )


def test_the_directory_filters_by_language_through_its_index(directory):
    from rest_framework.test import APIClient

    api = APIClient()
    sql = captured(
        lambda: api.get("/api/v1/counselors/?language=ja"),
        "counselors_counselorprofile",
        contains="languages",
    )
    assert_uses_index(sql, "counselors_counselorprofile", "counselor_languages_gin")


def test_the_slot_search_reads_one_counselors_windows_and_bookings_by_index(directory):
    from rest_framework.test import APIClient

    api = APIClient()
    path = f"/api/v1/counselors/{directory.pk}/slots/"
    windows = captured(lambda: api.get(path), "counselors_availabilitywindow")
    bookings = captured(lambda: api.get(path), "listening_booking")
    assert_uses_index(windows, "counselors_availabilitywindow")
    # The (counselor, start) index or the foreign key's own: either reads one counselor's rows.
    assert_uses_index(
        bookings, "listening_booking", indexes_leading_with("listening_booking", "counselor_id")
    )


# --- The queue claims (select_for_update(skip_locked=True)) -----------------------------------


def test_the_reminder_outbox_claim_reads_the_due_index():
    from listening.services import _reminder_claim

    now = timezone.now()
    reminder = ReminderFactory(booking=BookingFactory(start=next_quarter(days=1)))
    # 50,000 reminders already sent (the outbox's history), 20 pending.
    clone(Reminder, reminder, 50_000, status="'sent'", sequence='"sequence" + g')
    clone(Reminder, reminder, 20, sequence='"sequence" + 100000 + g')
    analyze(Reminder)
    sql = captured(lambda: _reminder_claim(now=now), "listening_reminder", contains="SKIP LOCKED")
    assert_uses_index(sql, "listening_reminder", "reminder_due_idx")


def test_the_matching_queue_claim_reads_the_pending_index():
    from matching.services import matching_round

    now = timezone.now()
    client = ClientFactory()
    request = MatchRequest.objects.create(
        client=client,
        topic="anxiety",
        mode="text",
        language="zh",
        duration_minutes=15,
        when="now",
        created_at=now - dt.timedelta(days=30),
        deadline_at=now - dt.timedelta(days=30),
        status=MatchRequest.Status.NO_MATCH,
    )
    # 50,000 requests of the past month, all closed; 10 waiting now, each of another client.
    clone(
        MatchRequest,
        request,
        50_000,
        created_at="\"created_at\" + g * interval '50 seconds'",
        # (A matched request has a booking: the closed ones here are unmatched or cancelled.)
        status="CASE WHEN g %% 5 = 0 THEN 'cancelled' ELSE 'no_match' END",
    )
    for _ in range(10):
        clone(
            MatchRequest,
            request,
            1,
            client_id=str(ClientFactory().pk),
            status="'pending'",
            created_at="now()",
            deadline_at="now() + interval '3 minutes'",
        )
    analyze(MatchRequest)
    sql = captured(lambda: matching_round(now=now), "matching_matchrequest", contains="SKIP LOCKED")
    # Both partial indexes hold only open requests (pending ⊂ open), so either reads the ten
    # waiting rows and none of the 50,000 closed ones; which is cheaper is the planner's call.
    assert_uses_index(
        sql, "matching_matchrequest", ("match_pending_idx", "match_one_open_per_client")
    )


def test_the_crisis_alert_outbox_sweep_reads_the_queue_index():
    from ethics.services import alerts_sweep

    booking = BookingFactory(start=next_quarter(days=-40))
    alert = CrisisAlert.objects.create(
        client=booking.client,
        booking=booking,
        source=CrisisAlert.Source.CHAT,
        reasons=["client: a signal"],
        created_at=timezone.now() - dt.timedelta(days=40),
        status=CrisisAlert.Status.RESOLVED,
        notified_at=timezone.now() - dt.timedelta(days=40),
    )
    # 20,000 alerts of the past, all resolved (one open alert per booking at most).
    clone(CrisisAlert, alert, 20_000, created_at="\"created_at\" + g * interval '2 minutes'")
    analyze(CrisisAlert)
    sql = captured(alerts_sweep, "ethics_crisisalert", contains="open")
    # Both hold the open alerts first: the queue index (status leads) and the partial unique
    # index of open alerts (only open rows, so the smaller; the planner prefers it).
    assert_uses_index(sql, "ethics_crisisalert", ("alert_queue_idx", "one_open_alert_per_booking"))


def test_the_crisis_alert_notify_claim_reads_the_primary_key():
    from ethics.services import alert_notify

    booking = BookingFactory(start=next_quarter(days=-1))
    alert = CrisisAlert.objects.create(
        client=booking.client,
        booking=booking,
        source=CrisisAlert.Source.CHAT,
        reasons=["client: a signal"],
        created_at=timezone.now(),
        status=CrisisAlert.Status.RESOLVED,
    )
    clone(CrisisAlert, alert, 20_000)
    analyze(CrisisAlert)
    sql = captured(
        lambda: alert_notify(alert_id=alert.pk), "ethics_crisisalert", contains="SKIP LOCKED"
    )
    assert_uses_index(sql, "ethics_crisisalert", "ethics_crisisalert_pkey")
