"""Forms of the account pages. They only check the shape of the input; the rules live in
the services, whose ValidationErrors `core.pages.add_service_errors` puts back on the form."""

import zoneinfo
from functools import lru_cache

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, "Region/City" ones first (the legacy aliases are rarely what anyone means)."""
    names = sorted(zoneinfo.available_timezones())
    regional = [n for n in names if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/"))]
    return [(n, n.replace("_", " ")) for n in regional + ["UTC"]]


class TimezoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault("help_text", _("Times are shown in this zone."))
        super().__init__(choices=timezone_choices, **kwargs)

    def valid_value(self, value):
        # Any IANA zone is accepted (the list shows the usual ones).
        return value in zoneinfo.available_timezones()


class SignupForm(forms.Form):
    role = forms.ChoiceField(
        label=_("I am joining as"),
        widget=forms.RadioSelect,
        choices=[
            (User.Role.CLIENT, _("Someone who wants to talk")),
            (User.Role.COUNSELOR, _("A qualified counselor offering sessions")),
        ],
        initial=User.Role.CLIENT,
    )
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("A pseudonym is fine: letters, digits and @ . + - _ only."),
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not too common."),
    )
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("Only for cancellations and reminders."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    timezone = TimezoneField()
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:  # static/js/tz.js preselects the browser's zone
            self.fields["timezone"].widget.attrs["data-browser-tz"] = ""


class AccountSettingsForm(forms.Form):
    timezone = TimezoneField()
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone."))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="wrong_password")
        return password


class ConsentForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, max_length=16)


# The PHQ-4 in its published order (Kroenke et al., 2009), then PHQ-9 item 9, worded as in the
# published English and Simplified Chinese versions (their own context, so that no other
# translation of the same English words can change them).
ANSWERS = [
    (0, pgettext_lazy("screening question", "Not at all")),
    (1, pgettext_lazy("screening question", "Several days")),
    (2, pgettext_lazy("screening question", "More than half the days")),
    (3, pgettext_lazy("screening question", "Nearly every day")),
]
PHQ4_QUESTIONS = [
    ("phq4_nervous", pgettext_lazy("screening question", "Feeling nervous, anxious or on edge")),
    (
        "phq4_worry",
        pgettext_lazy("screening question", "Not being able to stop or control worrying"),
    ),
    (
        "phq4_interest",
        pgettext_lazy("screening question", "Little interest or pleasure in doing things"),
    ),
    ("phq4_down", pgettext_lazy("screening question", "Feeling down, depressed or hopeless")),
]
ITEM9_QUESTION = pgettext_lazy(
    "screening question",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)


def _answer_field(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=ANSWERS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose an answer.")},
    )


class IntakeForm(forms.Form):
    consent_version = forms.CharField(widget=forms.HiddenInput, max_length=16)
    topic = forms.CharField(
        label=_("What would you like to talk about?"),
        max_length=120,
        help_text=_("A few words are enough, for example “work stress” or “sleep”."),
        widget=forms.TextInput(attrs={"list": "topic-suggestions"}),
    )
    distress = forms.TypedChoiceField(
        label=_("How distressed do you feel right now?"),
        help_text=_("0 means not at all, 10 the worst you can imagine."),
        choices=[(n, str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a number from 0 to 10.")},
    )
    phq4_nervous = _answer_field(PHQ4_QUESTIONS[0][1])
    phq4_worry = _answer_field(PHQ4_QUESTIONS[1][1])
    phq4_interest = _answer_field(PHQ4_QUESTIONS[2][1])
    phq4_down = _answer_field(PHQ4_QUESTIONS[3][1])
    item9 = _answer_field(ITEM9_QUESTION)

    def phq4_fields(self):
        return [self[name] for name, _label in PHQ4_QUESTIONS]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "consent_version": data["consent_version"],
            "topic": data["topic"],
            "distress": data["distress"],
            "phq4": [data[name] for name, _label in PHQ4_QUESTIONS],
            "item9": data["item9"],
        }


class NotificationPreferenceForm(forms.Form):
    """Reminder channels, which reminders, and quiet hours (in the user's own zone)."""

    email_reminders = forms.BooleanField(
        label=_("Reminders by e-mail"),
        required=False,
        help_text=_("Sent only when your account has an e-mail address."),
    )
    in_page_reminders = forms.BooleanField(label=_("Reminders on Pianke's pages"), required=False)
    remind_24h = forms.BooleanField(label=_("A day before a session"), required=False)
    remind_1h = forms.BooleanField(label=_("An hour before a session"), required=False)
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_(
            "No reminder e-mails in this time, in your time zone (it may run past midnight). "
            "An e-mail due then comes when the quiet hours end, if that is still before the "
            "session; notices on the site still appear."
        ),
    )
