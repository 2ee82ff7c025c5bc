import datetime as dt

from django.utils import timezone
from rest_framework import serializers

from core.fields import YEARS
from insights.selectors import Period
from insights.services import platform_zone

DEFAULT_DAYS = 90


def _in_years(value: dt.date) -> dt.date:
    if value.year not in YEARS:
        raise serializers.ValidationError(
            f"Give a date between the years {YEARS[0]} and {YEARS[-1]}."
        )
    return value


class PeriodSerializer(serializers.Serializer):
    """`from` and `to` (ISO dates, both optional: the last 90 days up to today in the
    platform's zone). The facts keep whole ISO weeks, so `from` is read from its week's Monday."""

    locals()["from"] = serializers.DateField(
        required=False, validators=[_in_years], help_text="First day (YYYY-MM-DD)."
    )
    to = serializers.DateField(
        required=False, validators=[_in_years], help_text="Last day (YYYY-MM-DD)."
    )

    def validate(self, attrs):
        date_to = attrs.get("to") or timezone.now().astimezone(platform_zone()).date()
        date_from = attrs.get("from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_to < date_from:
            raise serializers.ValidationError({"to": "`to` must not be before `from`."})
        return {"period": Period(date_from=date_from, date_to=date_to)}


class CellSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="None when suppressed.")
    suppressed = serializers.BooleanField()


class RowSerializer(serializers.Serializer):
    label = serializers.CharField()
    cells = serializers.ListField(
        child=serializers.JSONField(),
        help_text="A cell: value and suppressed, plus the table's figures when shown.",
    )
    total = serializers.JSONField(allow_null=True)


class TableSerializer(serializers.Serializer):
    name = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = RowSerializer(many=True)
    column_totals = serializers.ListField(child=serializers.JSONField(), allow_null=True)
    grand_total = serializers.JSONField(allow_null=True)


class InsightsSerializer(serializers.Serializer):
    locals()["from"] = serializers.DateField()
    to = serializers.DateField()
    k = serializers.IntegerField(help_text="Cells counting fewer distinct clients are suppressed.")
    built_at = serializers.DateTimeField(allow_null=True, help_text="When the facts were built.")
    tables = serializers.DictField(child=TableSerializer())
