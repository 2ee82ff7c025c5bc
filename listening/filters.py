import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from listening.models import Booking


class UtcIsoDateTimeField(IsoDateTimeField):
    """Read in UTC: the offset as given went to PostgreSQL, which refuses one beyond ±15:59
    (Python takes up to ±23:59), so `?start_after=…+21:37` was a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return value.astimezone(dt.UTC) if value is not None else None
        except OverflowError:  # year 1 east of UTC, year 9999 west of it
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class BookingFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Booking.Status.choices)
    start_after = UtcIsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = UtcIsoDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["status", "start_after", "start_before"]
