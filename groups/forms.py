from django import forms
from django.utils.translation import gettext_lazy as _

from groups.models import GROUP_CAPACITY_MAX, GROUP_CAPACITY_MIN, GROUP_LENGTHS


class GroupForm(forms.Form):
    """A counselor opens a group. `start` is read in the counselor's own zone (the page's
    active zone) and stored in UTC."""

    title = forms.CharField(label=_("Title"), max_length=120)
    topic = forms.CharField(
        label=_("Topic"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One shared topic, e.g. “The first weeks after graduation”."),
    )
    start = forms.DateTimeField(
        label=_("Start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        choices=[(m, _("%(minutes)s minutes") % {"minutes": m}) for m in GROUP_LENGTHS],
    )
    capacity = forms.IntegerField(
        label=_("Seats"), min_value=GROUP_CAPACITY_MIN, max_value=GROUP_CAPACITY_MAX, initial=6
    )
    price = forms.DecimalField(
        label=_("Price per seat"), max_digits=8, decimal_places=2, min_value=0
    )


class JoinForm(forms.Form):
    accept_rules = forms.BooleanField(
        label=_("I have read the group rules and will keep them."),
        error_messages={"required": _("Please read and accept the group rules to take a seat.")},
    )
