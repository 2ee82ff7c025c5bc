"""Forms of the flag review pages. They check the shape of the input; the rules stay in
oversight.services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ethics.models import EthicsFlag
from oversight.services import ResolutionAction

ACTION_LABELS = {
    ResolutionAction.NONE: _("No action"),
    ResolutionAction.WARN: _("Warn the counselor"),
    ResolutionAction.SUSPEND_COUNSELOR: _(
        "Suspend the counselor (unlists them and cancels their future sessions)"
    ),
    ResolutionAction.HOLD_CONTENT: _("Hold the session's content (kept past the retention period)"),
    ResolutionAction.CLOSE: _("Close without finding"),
}


class FlagAge:
    DAY = "day"
    WEEK = "week"
    OLDER = "older"
    CHOICES = [
        ("", _("Any age")),
        (DAY, _("Under 24 hours")),
        (WEEK, _("1 to 7 days")),
        (OLDER, _("Over 7 days")),
    ]


class FlagFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", _("All kinds")), *EthicsFlag.Kind.choices], label=_("Kind")
    )
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[("", _("Not resolved")), *EthicsFlag.Status.choices, ("all", _("All"))],
    )
    age = forms.ChoiceField(required=False, choices=FlagAge.CHOICES, label=_("Age"))

    def filter(self, flags):
        data = self.cleaned_data
        if data.get("kind"):
            flags = flags.filter(kind=data["kind"])
        status = data.get("status")
        if not status:
            flags = flags.exclude(status=EthicsFlag.Status.RESOLVED)
        elif status != "all":
            flags = flags.filter(status=status)
        now = timezone.now()
        day, week = now - dt.timedelta(days=1), now - dt.timedelta(days=7)
        age = data.get("age")
        if age == FlagAge.DAY:
            flags = flags.filter(created_at__gte=day)
        elif age == FlagAge.WEEK:
            flags = flags.filter(created_at__lt=day, created_at__gte=week)
        elif age == FlagAge.OLDER:
            flags = flags.filter(created_at__lt=week)
        return flags


class FlagNoteForm(forms.Form):
    text = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Add a note")
    )


class FlagResolveForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, ACTION_LABELS[a]) for a in ResolutionAction.ALL],
        initial=ResolutionAction.NONE,
        widget=forms.RadioSelect,
        label=_("Action"),
    )
    resolution = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Resolution (what was found and decided)"),
    )
    confirm_suspend = forms.BooleanField(
        required=False,
        label=_(
            "I confirm the suspension: the counselor's future sessions are cancelled and their clients told."
        ),
    )

    def __init__(self, *args, flag: EthicsFlag | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if flag is not None:
            # Offer only the actions this flag allows (no session: nothing to hold; no counselor: no one to suspend).
            unavailable = set()
            if flag.booking_id is None:
                unavailable.add(ResolutionAction.HOLD_CONTENT)
            if flag.counselor_id is None:
                unavailable.add(ResolutionAction.SUSPEND_COUNSELOR)
                del self.fields["confirm_suspend"]
            self.fields["action"].choices = [
                c for c in self.fields["action"].choices if c[0] not in unavailable
            ]

    def clean(self):
        data = super().clean()
        if data.get("action") == ResolutionAction.SUSPEND_COUNSELOR and not data.get(
            "confirm_suspend"
        ):
            self.add_error(
                "confirm_suspend", _("Confirm the suspension, or choose another action.")
            )
        return data
