"""The earnings API's input and output shapes."""

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.fields import YEARS

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_parse(value: str | None, *, today: dt.date) -> dt.date:
    """`YYYY-MM` as the month's first day (absent or empty: `today`'s month); a ValueError
    naming the problem otherwise. Shared by the API's serializer and the page's form."""
    if not value:
        return today.replace(day=1)
    match = MONTH.match(value.strip())
    if not match:
        raise ValueError(_("Give the month as YYYY-MM, for example 2026-05."))
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(_("The month must be from 01 to 12."))
    if year not in YEARS:
        raise ValueError(
            _("Give a month between the years %(first)s and %(last)s.")
            % {"first": YEARS[0], "last": YEARS[-1]}
        )
    return dt.date(year, month, 1)


class MonthSerializer(serializers.Serializer):
    """`month` (YYYY-MM; absent: this month in the viewer's time zone)."""

    month = serializers.CharField(
        required=False, allow_blank=True, help_text="The calendar month, YYYY-MM."
    )

    def _today(self) -> dt.date:
        return self.context.get("today") or timezone.localdate()

    def validate_month(self, value):
        try:
            return month_parse(value, today=self._today())
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        attrs.setdefault("month", self._today().replace(day=1))
        return attrs


class StatementLineSerializer(serializers.Serializer):
    posted_at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="earning, reversal or payout.")
    kind_label = serializers.CharField()
    subject = serializers.CharField(help_text="booking or group_seat; empty for a payout.")
    subject_id = serializers.IntegerField(allow_null=True)
    gross = serializers.DecimalField(max_digits=12, decimal_places=2)
    fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="The change to what you are owed: earned > 0, reversed or paid out < 0.",
    )


class StatementTotalsSerializer(serializers.Serializer):
    sessions = serializers.IntegerField()
    gross = serializers.DecimalField(max_digits=12, decimal_places=2)
    fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    earned = serializers.DecimalField(max_digits=12, decimal_places=2)
    reversed = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_out = serializers.DecimalField(max_digits=12, decimal_places=2)
    net = serializers.DecimalField(max_digits=12, decimal_places=2)


class StatementSerializer(serializers.Serializer):
    month = serializers.SerializerMethodField()
    timezone = serializers.CharField()
    currency = serializers.SerializerMethodField()
    lines = StatementLineSerializer(many=True)
    totals = StatementTotalsSerializer()
    due = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="What is owed to you now, all months."
    )

    def get_month(self, obj) -> str:
        return obj.month.strftime("%Y-%m")

    def get_currency(self, obj) -> str:
        return "CNY"


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class AccountBalanceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    balance = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Debits positive, credits negative."
    )


class PlatformSummarySerializer(serializers.Serializer):
    month = serializers.CharField()
    events = EventSerializer(many=True)
    accounts = AccountBalanceSerializer(many=True)
    held = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The sum of every account: always 0."
    )
    unbalanced_transactions = serializers.IntegerField(help_text="Always 0.")
