"""The earnings API: a counselor's own statement (JSON and CSV) and staff's platform summary.
Thin: the query's serializer, the selector (which decides who sees what), the output."""

import csv
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import serializers
from billing.selectors import Statement, counselor_statement, month_bounds, platform_summary
from core.permissions import IsCounselor, IsStaffMember


def _month(request):
    today = timezone.now().astimezone(ZoneInfo(request.user.timezone)).date()
    query = serializers.MonthSerializer(data=request.query_params, context={"today": today})
    query.is_valid(raise_exception=True)
    return query.validated_data["month"]


def statement_csv(statement: Statement) -> HttpResponse:
    """The month's statement as CSV: one row per line, then the totals and what is due."""
    month = statement.month.strftime("%Y-%m")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pianke-earnings-{month}.csv"'
    writer = csv.writer(response)
    writer.writerow(["posted_at", "kind", "subject", "subject_id", "gross", "fee", "amount"])
    tz = ZoneInfo(statement.timezone)
    for line in statement.lines:
        writer.writerow(
            [
                line.posted_at.astimezone(tz).isoformat(),
                line.kind,
                line.subject,
                line.subject_id or "",
                line.gross,
                line.fee,
                line.amount,
            ]
        )
    totals = statement.totals
    for key in ("gross", "fee", "earned", "reversed", "paid_out", "net"):
        writer.writerow([f"total_{key}", "", "", "", "", "", totals[key]])
    writer.writerow(["due_now", "", "", "", "", "", statement.due])
    return response


class EarningsView(APIView):
    """The counselor's own ledger lines of `month` (YYYY-MM, their time zone; default this
    month): each earning (gross, platform fee, net), staff reversal and payout, the month's
    totals and what is due now. 400 naming `month` when it is not a month."""

    permission_classes = [IsCounselor]

    @extend_schema(
        parameters=[serializers.MonthSerializer], responses=serializers.StatementSerializer
    )
    def get(self, request):
        statement = counselor_statement(user=request.user, month=_month(request))
        data = serializers.StatementSerializer(statement).data
        return Response(data)


class EarningsStatementView(APIView):
    """The same month as a CSV statement (`earnings/statement.csv?month=YYYY-MM`)."""

    permission_classes = [IsCounselor]

    @extend_schema(
        parameters=[serializers.MonthSerializer], responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        return statement_csv(counselor_statement(user=request.user, month=_month(request)))


class PlatformEarningsView(APIView):
    """Staff only: the platform's money events of `month` (in the staff member's time zone),
    each kind of account's balance now, and the ledger's balance check (always 0)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[serializers.MonthSerializer], responses=serializers.PlatformSummarySerializer
    )
    def get(self, request):
        month = _month(request)
        start, end = month_bounds(month, ZoneInfo(request.user.timezone))
        summary = platform_summary(user=request.user, start=start, end=end)
        summary["month"] = month.strftime("%Y-%m")
        return Response(serializers.PlatformSummarySerializer(summary).data)
