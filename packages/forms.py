from django import forms
from django.utils.translation import gettext_lazy as _

from packages.models import (
    PACKAGE_SESSIONS_MAX,
    PACKAGE_SESSIONS_MIN,
    PACKAGE_WITHIN_DAYS_MAX,
    PACKAGE_WITHIN_DAYS_MIN,
    LifeStage,
)


class PackageForm(forms.Form):
    life_stage = forms.ChoiceField(label=_("Life stage"), choices=LifeStage.choices)
    title_en = forms.CharField(label=_("Title (English)"), max_length=120, required=False)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=120, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    description_zh = forms.CharField(
        label=_("Description (Chinese)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sessions = forms.IntegerField(
        label=_("Sessions"),
        min_value=PACKAGE_SESSIONS_MIN,
        max_value=PACKAGE_SESSIONS_MAX,
        initial=4,
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Length of each session"),
        coerce=int,
        choices=[(15, _("15 minutes")), (30, _("30 minutes"))],
        initial=30,
    )
    within_days = forms.IntegerField(
        label=_("To be held within (days)"),
        min_value=PACKAGE_WITHIN_DAYS_MIN,
        max_value=PACKAGE_WITHIN_DAYS_MAX,
        initial=56,
    )
    price = forms.DecimalField(
        label=_("Price of the whole package"), max_digits=8, decimal_places=2
    )
