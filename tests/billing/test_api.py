"""GET earnings/ (the counselor's own), earnings/statement.csv, earnings/platform/ (staff) and
their pages."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.services import ledger_booking_complete, ledger_payout
from tests.billing.factories import charge_booking
from tests.factories import CounselorProfileFactory

pytestmark = pytest.mark.django_db


def _this_month() -> str:
    return timezone.now().strftime("%Y-%m")


@pytest.fixture
def earned(client_user, counselor):
    charge = charge_booking(client=client_user, counselor=counselor, amount="100.00")
    ledger_booking_complete(booking_id=charge.subject_id)
    return charge


def test_a_counselor_gets_their_own_lines_and_totals(as_counselor, earned, staff_user, counselor):
    ledger_payout(counselor_id=counselor.pk, staff=staff_user)
    other = CounselorProfileFactory()
    ledger_booking_complete(
        booking_id=charge_booking(client=earned.client, counselor=other).subject_id
    )
    body = as_counselor.get("/api/v1/earnings/", {"month": _this_month()}).json()
    assert [line["kind"] for line in body["lines"]] == ["earning", "payout"]
    assert body["lines"][0] | {"posted_at": None} == {
        "posted_at": None,
        "kind": "earning",
        "kind_label": "Session given: earning and platform fee",
        "subject": "booking",
        "subject_id": earned.subject_id,
        "gross": "100.00",
        "fee": "20.00",
        "amount": "80.00",
    }
    assert body["totals"] == {
        "sessions": 1,
        "gross": "100.00",
        "fee": "20.00",
        "earned": "80.00",
        "reversed": "0.00",
        "paid_out": "80.00",
        "net": "0.00",
    }
    assert body["due"] == "0.00" and body["currency"] == "CNY"


def test_another_month_has_no_lines(as_counselor, earned):
    body = as_counselor.get("/api/v1/earnings/", {"month": "2001-01"}).json()
    assert body["lines"] == [] and body["due"] == "80.00"


@pytest.mark.parametrize("month", ["2026-13", "May", "2026-5-1", "0999-01"])
def test_a_bad_month_is_a_400_naming_month(as_counselor, month):
    response = as_counselor.get("/api/v1/earnings/", {"month": month})
    assert response.status_code == 400 and "month" in response.json()


def test_a_client_may_not_see_earnings(as_client):
    assert as_client.get("/api/v1/earnings/").status_code == 403


def test_anonymous_earnings_is_a_401(anon):
    assert anon.get("/api/v1/earnings/").status_code == 401


def test_the_statement_is_a_csv_of_the_month(as_counselor, earned):
    response = as_counselor.get("/api/v1/earnings/statement.csv", {"month": _this_month()})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = response.content.decode().splitlines()
    assert rows[0] == "posted_at,kind,subject,subject_id,gross,fee,amount"
    assert rows[1].endswith(f",earning,booking,{earned.subject_id},100.00,20.00,80.00")
    assert "total_net,,,,,,80.00" in rows and "due_now,,,,,,80.00" in rows


def test_staff_see_the_platform_summary_balancing_to_zero(as_staff, earned):
    body = as_staff.get("/api/v1/earnings/platform/", {"month": _this_month()}).json()
    accounts = {a["kind"]: Decimal(a["balance"]) for a in body["accounts"]}
    assert accounts["revenue"] == Decimal("-20.00") and accounts["counselor"] == Decimal("-80.00")
    assert body["total"] == "0.00" and body["unbalanced_transactions"] == 0
    events = {e["kind"]: e for e in body["events"]}
    assert events["earning"]["count"] == 1 and events["earning"]["amount"] == "100.00"


def test_a_counselor_may_not_see_the_platform_summary(as_counselor):
    assert as_counselor.get("/api/v1/earnings/platform/").status_code == 403


def test_the_earnings_page_draws_the_weeks_and_the_lines(client, counselor, earned):
    client.force_login(counselor.user)
    response = client.get("/earnings/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<svg class="week-plot"' in body and "¥80.00" in body
    assert len(response.context["plot"]["bars"]) in (4, 5, 6)
    assert sum(b["value"] for b in response.context["plot"]["bars"]) == Decimal("80.00")


def test_the_earnings_page_names_a_bad_month(client, counselor):
    client.force_login(counselor.user)
    response = client.get("/earnings/", {"month": "2026-00"})
    assert response.status_code == 400 and "01 to 12" in response.content.decode()


def test_the_platform_page_is_for_staff(client, staff_user, counselor, earned):
    client.force_login(counselor.user)
    assert client.get("/staff/earnings/").status_code == 403
    client.force_login(staff_user)
    response = client.get("/staff/earnings/")
    assert (
        response.status_code == 200 and "Every transaction balances." in response.content.decode()
    )
