"""Forms of the booking pages and the session room (shapes only; listening.services decides)."""

import datetime as dt

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.i18n import in_active_language
from core.sessions import SESSION_LENGTH_CHOICES, SessionMode
from counselors.models import CounselorProfile, Offering, ToolkitItem
from ethics.models import Referral, Resource
from listening.services import NOTE_MAX_CHARS
from listening.toolkit import field_label


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
    # The offering booked, if any: it fixes the length (and the price) and limits the modes.
    offering = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # One of the client's packages to book a session of (offered when they have one usable
    # with this counselor); empty pays for the session as usual.
    package = forms.TypedChoiceField(
        label=_("Pay with"), coerce=int, empty_value=None, required=False, choices=[]
    )

    def __init__(
        self,
        *args,
        counselor: CounselorProfile,
        offering: Offering | None = None,
        purchases=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if purchases and offering is None:
            self.fields["package"].choices = [
                ("", _("This session on its own")),
                *(
                    (
                        p.pk,
                        _("%(title)s (%(left)s of %(total)s sessions left, %(minutes)s minutes)")
                        % {
                            "title": p.package.title,
                            "left": p.sessions_left,
                            "total": p.sessions_total,
                            "minutes": p.duration_minutes,
                        },
                    )
                    for p in purchases
                ),
            ]
        else:
            del self.fields["package"]
        labels = dict(SessionMode.choices)
        modes = offering.modes if offering is not None else counselor.modes
        self.fields["mode"].choices = [
            (m, labels[m]) for m in SessionMode.values if m in counselor.modes and m in modes
        ]
        if offering is not None:
            self.fields["duration_minutes"].choices = [
                (m, label) for m, label in SESSION_LENGTH_CHOICES if m == offering.duration_minutes
            ]
            self.fields["duration_minutes"].initial = offering.duration_minutes
            self.fields["offering"].initial = offering.pk

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


class ToolkitEntryForm(forms.Form):
    """One entry in a toolkit item, its fields built from the item's structure (a diary's text
    and 0–10 scale fields, a checklist's boxes, a worksheet's prompts). `answers()` gives what
    the toolkit service takes; it decides what is valid."""

    def __init__(
        self, *args, item: ToolkitItem, booking_id: int | None = None, counselor_name="", **kwargs
    ):
        kwargs.setdefault("prefix", f"item{item.pk}-{booking_id or 0}")
        super().__init__(*args, **kwargs)
        self.item = item
        self.booking_id = booking_id
        for spec in item.fields:
            label = field_label(spec)
            name = f"f_{spec['key']}"
            if item.kind == ToolkitItem.Kind.CHECKLIST:
                explain = in_active_language(spec.get("explain_en", ""), spec.get("explain_zh", ""))
                self.fields[name] = forms.BooleanField(
                    label=label, required=False, help_text=explain
                )
            elif spec.get("type") == "scale":
                self.fields[name] = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=10,
                    widget=forms.NumberInput(attrs={"min": 0, "max": 10, "step": 1}),
                    help_text=_("0 = not at all, 10 = the most you can imagine"),
                )
            else:
                self.fields[name] = forms.CharField(
                    label=label,
                    required=False,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
        if booking_id is not None:
            self.fields["share"] = forms.BooleanField(
                label=_("Share this entry with %(name)s") % {"name": counselor_name}
                if counselor_name
                else _("Share this entry with my counselor"),
                required=False,
                help_text=_("Only that counselor will see it. You can stop sharing at any time."),
            )

    def answers(self) -> dict:
        """The filled-in fields, keyed as the item names them (empty ones left out)."""
        answers = {}
        for spec in self.item.fields:
            value = self.cleaned_data.get(f"f_{spec['key']}")
            if self.item.kind == ToolkitItem.Kind.CHECKLIST:
                answers[spec["key"]] = bool(value)
            elif value not in (None, ""):
                answers[spec["key"]] = value
        return answers


class AssignForm(forms.Form):
    """The counselor gives the client a toolkit item from the room."""

    item = forms.ModelChoiceField(
        label=_("Tool"), queryset=ToolkitItem.objects.none(), empty_label=None
    )
    note = forms.CharField(
        label=_("A word for the client (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Try this before next time")}),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
