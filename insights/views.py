from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsCounselor, IsStaffMember
from insights import serializers
from insights.selectors import (
    K,
    counselor_outcomes_for_user,
    insights_built_at,
    insights_for_user,
    table_as_dict,
)
from organisations.selectors import organisation_administered_by


def _payload(period, tables) -> dict:
    return {
        "from": period.date_from,
        "to": period.date_to,
        "k": K,
        "built_at": insights_built_at(),
        "tables": {name: table_as_dict(table) for name, table in tables.items()},
    }


class InsightsView(APIView):
    """The platform's k-anonymous insights over `from`..`to` (staff only): top topics, the
    weekday × hour heat map, talk-now waits, outcomes by topic, mode and duration, feedback
    keywords and exposure fairness. Every cell counting fewer than `k` distinct clients is
    suppressed, with the complements that stop it being subtracted back.

    An organisation admin gets their organisation's slice instead: sponsored sessions used by
    month and topics by month (`sessions_by_month`, `topics_by_month`), suppressed alike."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[serializers.PeriodSerializer], responses=serializers.InsightsSerializer
    )
    def get(self, request):
        # Who first: a caller who may not read any insights gets 403, whatever the query.
        organisation = None
        if not request.user.is_staff_member:
            organisation = organisation_administered_by(user=request.user)
            if organisation is None:
                raise PermissionDenied(IsStaffMember.message)
        query = serializers.PeriodSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        tables = insights_for_user(user=request.user, period=period, organisation=organisation)
        return Response(serializers.InsightsSerializer(_payload(period, tables)).data)


class CounselorOutcomesView(APIView):
    """The counselor's own outcomes over `from`..`to`, by topic, mode, duration and month,
    suppressed below `k` distinct clients like every insights table."""

    permission_classes = [IsCounselor]

    @extend_schema(
        parameters=[serializers.PeriodSerializer], responses=serializers.InsightsSerializer
    )
    def get(self, request):
        query = serializers.PeriodSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        tables = counselor_outcomes_for_user(user=request.user, period=period)
        return Response(serializers.InsightsSerializer(_payload(period, tables)).data)
