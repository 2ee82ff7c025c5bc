"""forms of organisations: the shapes of the join, e-mail and staff inputs. The rules are
organisations.services'; these only check types and lengths."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTHS, SessionMode
from organisations.models import Organisation
from organisations.selectors import platform_zone

# An admin's page shows this many months back by default.
DEFAULT_MONTHS = 6


class JoinForm(forms.Form):
    code = forms.CharField(label=_("Join code"), max_length=64)


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Your address at your organisation"),
        max_length=254,
        help_text=_("We send a link there; opening it confirms the address."),
    )


class EmailConfirmForm(forms.Form):
    token = forms.CharField(max_length=200, widget=forms.HiddenInput)


class PeriodForm(forms.Form):
    """An admin page's months: `from` and `to` (dates), both optional."""

    locals()["from"] = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            self.add_error("to", _("The end must not be before the start."))
        return data

    def dates(self) -> tuple[dt.date, dt.date]:
        """Precondition: the form is valid, or unbound (the last DEFAULT_MONTHS months)."""
        data = self.cleaned_data if self.is_bound else {}
        date_to = data.get("to") or timezone.now().astimezone(platform_zone()).date()
        date_from = data.get("from") or (date_to - dt.timedelta(days=31 * DEFAULT_MONTHS)).replace(
            day=1
        )
        return date_from, date_to


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Organisation.Kind.choices)
    join_code = forms.CharField(label=_("Join code"), max_length=32, required=False)
    email_domain = forms.CharField(label=_("E-mail domain"), max_length=253, required=False)


class AllowanceForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all()
    )
    sessions_per_member = forms.IntegerField(
        label=_("Sessions per member per quarter"), min_value=0, max_value=1000
    )
    pool_per_quarter = forms.IntegerField(
        label=_("Sessions for all members per quarter"), min_value=0, max_value=1_000_000
    )
    durations = forms.TypedMultipleChoiceField(
        label=_("Lengths covered"),
        choices=[(n, _("%(minutes)s minutes") % {"minutes": n}) for n in SESSION_LENGTHS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    modes = forms.MultipleChoiceField(
        label=_("Kinds of session covered"),
        choices=SessionMode.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class AdminForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all()
    )
    username = forms.CharField(label=_("Username of the admin"), max_length=150)
