"""The earnings pages' month picker (the API's MonthSerializer, for a browser)."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.serializers import month_parse


class MonthForm(forms.Form):
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_month(self) -> dt.date:
        try:
            return month_parse(self.cleaned_data.get("month"), today=self.today)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def chosen_month(self) -> dt.date:
        """Precondition: the form is valid, or unbound (this month)."""
        return self.cleaned_data["month"] if self.is_bound else self.today.replace(day=1)
