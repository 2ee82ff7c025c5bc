"""Forms of the on-call and resource directory pages. They check the shape of the input;
the rules stay in ethics.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.sessions import SessionLanguage
from ethics.models import CrisisAlert, Resource


class PrefixedForm(forms.Form):
    """Pages that list many items show one form per item: ids get the item's number."""

    def __init__(self, *args, id_prefix: str = "id", **kwargs):
        kwargs.setdefault("auto_id", f"{id_prefix}_%s")
        super().__init__(*args, **kwargs)


# --- the on-call queue ----------------------------------------------------------------------


class AcknowledgeForm(PrefixedForm):
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Note (optional)"),
    )


class ResolveAlertForm(PrefixedForm):
    outcome = forms.ChoiceField(
        choices=[("", _("Choose the outcome")), *CrisisAlert.Outcome.choices], label=_("Outcome")
    )
    note = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label=_("What happened")
    )


# --- the flag review --------------------------------------------------------------------------


# --- the resource directory -------------------------------------------------------------------


class ResourceFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", _("All kinds")), *Resource.Kind.choices], label=_("Kind")
    )
    region = forms.ChoiceField(required=False, label=_("Region"))
    language = forms.ChoiceField(required=False, label=_("Language"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The values in use: a filter offers only what would find something.
        regions = Resource.objects.order_by("region").values_list("region", flat=True).distinct()
        languages = (
            Resource.objects.order_by("language").values_list("language", flat=True).distinct()
        )
        self.fields["region"].choices = [("", _("All regions")), *((r, r) for r in regions)]
        names = dict(SessionLanguage.choices)
        self.fields["language"].choices = [
            ("", _("All languages")),
            *((code, names.get(code, code)) for code in languages),
        ]

    def filter(self, resources):
        for name in ("kind", "region", "language"):
            if self.cleaned_data.get(name):
                resources = resources.filter(**{name: self.cleaned_data[name]})
        return resources
