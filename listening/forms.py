"""Forms of the booking pages and the session room (shapes only; listening.services decides)."""

import datetime as dt

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTH_CHOICES, SessionMode
from counselors.models import CounselorProfile
from ethics.models import Referral, Resource
from listening.services import NOTE_MAX_CHARS


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


class RescheduleForm(forms.Form):
    """A new time for a booking: one of the counselor's free slots (radio buttons carrying the
    ISO instant), and a reason (the counselor must give one; the client may)."""

    start = forms.CharField(
        error_messages={"required": _("Pick a time from the counselor's free times.")},
    )
    reason = forms.CharField(
        label=_("Why the session moves (the other person sees this)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_start(self):
        start = parse_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError(_("Pick a time from the counselor's free times."))
        return start


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, shared with the other person)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedbackForm(forms.Form):
    """The client's feedback on a session: inline on "my bookings" (prefixed per booking) and
    on the session's own feedback page (unprefixed)."""

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


# --- the session room's forms ----------------------------------------------------------------


class RoomForm(forms.Form):
    """The room shows several forms at once: each gets its own prefix for element ids."""

    id_prefix = "room"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class NoteForm(RoomForm):
    id_prefix = "note"
    text = forms.CharField(
        required=False,
        strip=False,
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        label=_("Private notes"),
    )
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class RaiseCrisisForm(RoomForm):
    id_prefix = "crisis"
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("What did you observe?"),
    )


class ReferralForm(RoomForm):
    id_prefix = "refer"
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.none(),
        label=_("Resource"),
        empty_label=_("Choose a resource"),
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Why this resource (the client sees this)"),
    )
    urgency = forms.ChoiceField(
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        label=_("Urgency"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = Resource.objects.filter(is_active=True).order_by(
            "kind", "region", "name"
        )

    def grouped_resources(self) -> list[tuple[str, list[Resource]]]:
        """The directory by kind, for <optgroup>s."""
        groups: dict[str, list[Resource]] = {}
        for resource in self.fields["resource"].queryset:
            groups.setdefault(resource.get_kind_display(), []).append(resource)
        return list(groups.items())


class AsyncMessageForm(RoomForm):
    id_prefix = "msg"
    # Made when the form is drawn: submitting the same form twice stores the message once.
    id = forms.UUIDField(widget=forms.HiddenInput)
    text = forms.CharField(
        required=False,
        max_length=settings.CHAT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Your message"),
    )
    audio = forms.FileField(
        required=False,
        label=_("Or a voice note (at most 3 minutes)"),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("text") or "").strip() and not data.get("audio"):
            self.add_error("text", _("Write a message or add a voice note."))
        return data
