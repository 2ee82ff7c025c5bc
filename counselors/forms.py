"""Forms of the directory and the counselor's own pages: shapes only; the rules are in
counselors.services (their ValidationErrors go back on the form, see add_service_errors)."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import TimezoneField
from core.sessions import SessionLanguage, SessionMode
from counselors.models import Specialty, ToolkitItem

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def specialty_choices() -> list[tuple[str, str]]:
    return [(s.slug, s.name) for s in Specialty.objects.order_by("slug")]


class DirectoryFilterForm(forms.Form):
    specialty = forms.ChoiceField(label=_("Topic"), required=False)
    language = forms.ChoiceField(
        label=_("Session language"),
        required=False,
        choices=[("", _("Any language"))] + list(SessionLanguage.choices),
    )
    mode = forms.ChoiceField(
        label=_("Mode"), required=False, choices=[("", _("Any mode"))] + list(SessionMode.choices)
    )
    available_today = forms.BooleanField(label=_("Free today"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].choices = [("", _("Any topic"))] + specialty_choices()


class QuarterTimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": 900, **(attrs or {})}, format="%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CounselorProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        help_text=_("How clients see you, e.g. “Lin Yue” or “林悦”."),
    )
    bio = forms.CharField(
        label=_("About you"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
        help_text=_("Your background, what you listen to, when you are usually online."),
    )
    specialties = forms.MultipleChoiceField(
        label=_("Topics you listen to"), required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Session languages"),
        choices=SessionLanguage.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )
    modes = forms.MultipleChoiceField(
        label=_("Modes you offer"),
        choices=SessionMode.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one mode.")},
    )
    price_15 = forms.DecimalField(
        label=_("Price for 15 minutes (¥)"), min_value=0, max_digits=8, decimal_places=2
    )
    price_30 = forms.DecimalField(
        label=_("Price for 30 minutes (¥)"), min_value=0, max_digits=8, decimal_places=2
    )
    timezone = TimezoneField(
        help_text=_(
            "Your own zone: your availability is drawn and kept in it. Change it when you travel."
        )
    )
    daily_cap = forms.IntegerField(label=_("Most sessions a day"), min_value=1, max_value=48)
    min_notice_minutes = forms.IntegerField(
        label=_("Minimum notice (minutes)"),
        min_value=0,
        max_value=7 * 24 * 60,
        help_text=_("How long before a session it can still be booked."),
    )
    buffer_minutes = forms.IntegerField(
        label=_("Break between sessions (minutes)"), min_value=0, max_value=60
    )
    reschedule_cutoff_minutes = forms.IntegerField(
        label=_("Moving a session (minutes before it)"),
        min_value=0,
        max_value=7 * 24 * 60,
        required=False,
        help_text=_("Until how long before a session it can still be moved."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialties"].choices = specialty_choices()

    def clean(self):
        data = super().clean()
        if data.get("reschedule_cutoff_minutes") is None:
            data.pop("reschedule_cutoff_minutes", None)  # left empty: unchanged
        return data


class CredentialForm(forms.Form):
    licence_type = forms.CharField(
        label=_("Licence or qualification"),
        max_length=100,
        help_text=_("e.g. 国家二级心理咨询师, HKPS Registered Psychologist, LMHC"),
    )
    number = forms.CharField(label=_("Number"), max_length=100)
    issuing_body = forms.CharField(label=_("Issued by"), max_length=200)
    valid_until = forms.DateField(
        label=_("Valid until (optional)"), required=False, widget=DateInput()
    )


class WeeklyWindowForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Day"), choices=WEEKDAYS, coerce=int)
    start_time = forms.TimeField(label=_("From"), widget=QuarterTimeInput())
    end_time = forms.TimeField(label=_("Until"), widget=QuarterTimeInput())
    valid_from = forms.DateField(label=_("Starting on"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Ending on (optional)"), required=False, widget=DateInput()
    )


class OneOffWindowForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    start_time = forms.TimeField(label=_("From"), widget=QuarterTimeInput())
    end_time = forms.TimeField(label=_("Until"), widget=QuarterTimeInput())

    def interval(self, tz) -> tuple[dt.datetime, dt.datetime]:
        """The window as aware datetimes: wall-clock times on `date` in the zone `tz`."""
        data = self.cleaned_data
        start = dt.datetime.combine(data["date"], data["start_time"], tzinfo=tz)
        end_day = (
            data["date"] + dt.timedelta(days=1)
            if data["end_time"] == dt.time(0, 0)
            else data["date"]
        )
        return start, dt.datetime.combine(end_day, data["end_time"], tzinfo=tz)


class TimeOffForm(forms.Form):
    start_date = forms.DateField(label=_("First day away"), widget=DateInput())
    end_date = forms.DateField(label=_("Last day away"), widget=DateInput())
    note = forms.CharField(label=_("Note (only for you)"), max_length=200, required=False)


# --- offerings and toolkit items ------------------------------------------------------------------


class OfferingForm(forms.Form):
    """An offering's shape; its rules (price bounds, modes of the profile, own or library items)
    are counselors.services.offering_create/offering_update."""

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
    duration_minutes = forms.TypedChoiceField(
        label=_("Length"),
        choices=[(15, _("15 minutes")), (30, _("30 minutes"))],
        coerce=int,
    )
    modes = forms.MultipleChoiceField(
        label=_("Modes"),
        choices=SessionMode.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one mode.")},
        help_text=_("Only modes your profile offers."),
    )
    price = forms.DecimalField(label=_("Price (¥)"), max_digits=8, decimal_places=2)
    specialties = forms.MultipleChoiceField(
        label=_("Topics"), required=False, widget=forms.CheckboxSelectMultiple
    )
    items = forms.TypedMultipleChoiceField(
        label=_("Toolkit items the client receives"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialties"].choices = specialty_choices()
        self.fields["items"].choices = [
            (i.pk, f"{i.title} ({i.get_kind_display()})") for i in items
        ]


KIND_LINE_HELP = {
    "diary": _("One field a line: English label | Chinese label | text or scale"),
    "checklist": _(
        "One item a line: English label | Chinese label | English explanation | Chinese explanation"
    ),
    "worksheet": _("One prompt a line: English prompt | Chinese prompt"),
}
LINE_KEYS = {
    "diary": ("label_en", "label_zh", "type"),
    "checklist": ("label_en", "label_zh", "explain_en", "explain_zh"),
    "worksheet": ("label_en", "label_zh"),
}


def fields_as_lines(kind: str, fields: list[dict]) -> str:
    """An item's `fields` as the editor's lines (the reverse of ToolkitItemForm's parsing)."""
    keys = LINE_KEYS.get(kind, ())
    return "\n".join(" | ".join(f.get(k, "") for k in keys).rstrip(" |") for f in fields)


class ToolkitItemForm(forms.Form):
    """A toolkit item: the fields are given as lines, split on "|" (see KIND_LINE_HELP); the
    structure is checked by counselors.services.toolkit_fields_clean."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    title_en = forms.CharField(label=_("Title (English)"), max_length=120, required=False)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=120, required=False)
    body_en = forms.CharField(
        label=_("Instructions or script (English)"),
        max_length=6000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    body_zh = forms.CharField(
        label=_("Instructions or script (Chinese)"),
        max_length=6000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    lines = forms.CharField(
        label=_("Fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=" · ".join(str(h) for h in KIND_LINE_HELP.values()),
    )
    audio = forms.FileField(
        label=_("Audio file (guided audio only)"),
        required=False,
        help_text=_("webm, ogg, mp4 or mpeg audio."),
    )

    def __init__(self, *args, kind_fixed: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ToolkitItem.Kind.choices
        if kind_fixed:  # the kind of an existing item stays
            self.fields["kind"].required = False
            self.fields["kind"].disabled = True
            self.fields["kind"].initial = kind_fixed
        self.kind_fixed = kind_fixed

    def clean(self):
        data = super().clean()
        kind = self.kind_fixed or data.get("kind")
        keys = LINE_KEYS.get(kind)
        rows = []
        if keys:
            for line in (data.get("lines") or "").splitlines():
                if not line.strip():
                    continue
                parts = [p.strip() for p in line.split("|")]
                if len(parts) > len(keys):
                    self.add_error("lines", _("Too many “|” in: %(line)s") % {"line": line[:80]})
                    break
                rows.append(dict(zip(keys, parts, strict=False)))
        data["fields"] = rows
        data["kind"] = kind
        return data
