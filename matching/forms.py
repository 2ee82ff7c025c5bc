from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.sessions import SESSION_LENGTH_CHOICES, SessionLanguage, SessionMode
from counselors.models import Specialty


class MatchRequestForm(forms.Form):
    """Talk now, or suggestions for a window (times in the viewer's zone)."""

    WHEN_CHOICES = [
        ("now", _("Now: the first good counselor who is free")),
        ("scheduled", _("Later: suggest times within a window")),
    ]

    topic = forms.ChoiceField(label=_("What would you like to talk about?"))
    mode = forms.ChoiceField(
        label=_("How"), choices=SessionMode.choices, widget=forms.RadioSelect, initial="text"
    )
    language = forms.ChoiceField(
        label=_("Language of the session"), choices=SessionLanguage.choices, initial="zh"
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        widget=forms.RadioSelect,
        initial=15,
        choices=SESSION_LENGTH_CHOICES,
    )
    when = forms.ChoiceField(
        label=_("When"), choices=WHEN_CHOICES, widget=forms.RadioSelect, initial="now"
    )
    earliest = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    latest = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(
        label=_("Anything the counselor should know first? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    wants_someone_new = forms.BooleanField(
        label=_("I would like someone I have not talked to before"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [
            (s.slug, s.name) for s in Specialty.objects.order_by("slug")
        ]

    def clean(self):
        data = super().clean()
        if data.get("when") == "scheduled":
            earliest, latest = data.get("earliest"), data.get("latest")
            if not earliest:
                self.add_error("earliest", _("Pick the start of the window."))
            if not latest:
                self.add_error("latest", _("Pick the end of the window."))
            if earliest and latest and earliest >= latest:
                self.add_error("latest", _("The end must come after the start."))
            elif latest and latest <= timezone.now():
                self.add_error("latest", _("The window is in the past."))
        return data


class SurgeForm(forms.Form):
    """Declare a surge (times in the viewer's zone). The service checks the rules."""

    region = forms.ChoiceField(label=_("Region"))
    languages = forms.MultipleChoiceField(
        label=_("Session languages"),
        choices=SessionLanguage.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )
    specialty = forms.ChoiceField(label=_("Specialty (optional)"), required=False)
    banner_zh = forms.CharField(label=_("Banner (Chinese)"), max_length=300)
    banner_en = forms.CharField(label=_("Banner (English)"), max_length=300)
    starts_at = forms.DateTimeField(
        label=_("Starts (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, regions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r, r) for r in regions]
        self.fields["specialty"].choices = [("", _("Any"))] + [
            (s.slug, s.name) for s in Specialty.objects.order_by("slug")
        ]


class SurgeUpdateForm(forms.Form):
    banner_zh = forms.CharField(label=_("Banner (Chinese)"), max_length=300)
    banner_en = forms.CharField(label=_("Banner (English)"), max_length=300)
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
