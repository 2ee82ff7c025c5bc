import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import YEARS
from insights.selectors import Period
from insights.serializers import DEFAULT_DAYS
from insights.services import platform_zone


class PeriodForm(forms.Form):
    """The page's `from` and `to` (the API's PeriodSerializer, for a browser)."""

    locals()["from"] = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _year(self, name: str):
        value = self.cleaned_data.get(name)
        if value and value.year not in YEARS:
            raise forms.ValidationError(
                _("Give a date between the years %(first)s and %(last)s."),
                params={"first": YEARS[0], "last": YEARS[-1]},
            )
        return value

    def clean_from(self):
        return self._year("from")

    def clean_to(self):
        return self._year("to")

    def period(self) -> Period:
        """Precondition: the form is valid, or unbound (the default period)."""
        data = self.cleaned_data if self.is_bound else {}
        date_to = data.get("to") or timezone.now().astimezone(platform_zone()).date()
        date_from = data.get("from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        return Period(date_from=date_from, date_to=date_to)

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            self.add_error("to", _("The end must not be before the start."))
        return data
