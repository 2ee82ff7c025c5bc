from django.utils import timezone
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset: a naive time is ambiguous
    across the zones clients and counselors live in, so it is refused, not guessed."""

    default_error_messages = {
        "naive": "Include a UTC offset, e.g. 2026-01-05T09:00:00+08:00 or …Z."
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)
