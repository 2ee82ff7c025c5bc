"""Forms of the booking pages (shapes only; listening.services decides)."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTH_CHOICES, SessionMode
from counselors.models import CounselorProfile


def parse_start(value: str) -> dt.datetime | None:
    """An ISO 8601 instant with its offset (as the slot links carry), else None."""
    try:
        start = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


class BookingForm(forms.Form):
    start = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Pick a time from the counselor's free times."),
            "invalid_start": _("Pick a time from the counselor's free times."),
        },
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=SESSION_LENGTH_CHOICES,
    )
    mode = forms.ChoiceField(label=_("How would you like to talk?"), widget=forms.RadioSelect)
    topic = forms.CharField(
        label=_("What would you like to talk about?"),
        max_length=120,
        help_text=_("A few words for your counselor. Never shown in calendar exports."),
    )
    note = forms.CharField(
        label=_("Anything your counselor should know first? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, counselor: CounselorProfile, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(SessionMode.choices)
        self.fields["mode"].choices = [
            (m, labels[m]) for m in SessionMode.values if m in counselor.modes
        ]

    def clean_start(self):
        start = parse_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError(
                self.fields["start"].error_messages["invalid_start"], code="invalid_start"
            )
        return start


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, shared with the other person)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(forms.Form):
    pre_distress = forms.TypedChoiceField(
        label=_("How distressed did you feel before the session?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(11)],
        widget=forms.RadioSelect,
        help_text=_("0 means not at all, 10 the worst you can imagine."),
    )
    post_distress = forms.TypedChoiceField(
        label=_("And now?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(n, str(n)) for n in range(11)],
    )
    rating = forms.TypedChoiceField(
        label=_("How was the session?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=[(n, f"{n} ★") for n in range(1, 6)],
        help_text=_("1 is poor, 5 is very good."),
    )
    comment = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
