import datetime as dt

from django.utils import timezone
from rest_framework import serializers

from core.sessions import SESSION_LANGUAGE_HELP, session_language_from

# Times a request may name: the date arithmetic around them (a day or two either side, a
# week of slots) must stay inside Python's and PostgreSQL's range, which years 1 and 9999
# do not (a 500 before). Nothing in Pianke is about a time outside these years.
YEARS = range(1900, 3000)


def datetime_in_range(value) -> bool:
    """Whether an aware datetime lies in YEARS, in UTC."""
    return value.astimezone(dt.UTC).year in YEARS if value.year in range(2, 9999) else False


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset: a naive time is ambiguous
    across the zones clients and counselors live in, so it is refused, not guessed."""

    default_error_messages = {
        "naive": "Include a UTC offset, e.g. 2026-01-05T09:00:00+08:00 or …Z.",
        "out_of_range": f"Give a time between the years {YEARS[0]} and {YEARS[-1]}.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        if not datetime_in_range(value):
            self.fail("out_of_range")
        return super().enforce_timezone(value)


class SessionLanguageField(serializers.CharField):
    """A session language, given as any tag for it (core.sessions.session_language_from):
    `zh-hans`, `zh-Hans`, `en-GB` are read as `zh` and `en`, the same in every input."""

    default_error_messages = {"unknown_language": "{message}"}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 35)  # the longest common BCP 47 tags
        kwargs.setdefault("help_text", SESSION_LANGUAGE_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return session_language_from(value)
        except ValueError as exc:
            self.fail("unknown_language", message=str(exc))
