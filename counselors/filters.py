import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.utils import timezone

from core.fields import YEARS, datetime_in_range
from core.sessions import SESSION_LANGUAGE_HELP, SESSION_LENGTHS, SessionMode, session_language_from
from counselors.models import CounselorProfile
from listening.selectors import counselor_free_filter


class CounselorFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("available_from"), data.get("available_to")
        for name in ("available_from", "available_to"):
            if data.get(name) and not datetime_in_range(data[name]):
                self.add_error(name, f"Give a time between the years {YEARS[0]} and {YEARS[-1]}.")
                return data
        if start or end:
            start = start or timezone.now()
            end = end or start + dt.timedelta(days=1)
            if end <= start:
                self.add_error("available_to", "available_to must be after available_from.")
            elif end - start > dt.timedelta(days=settings.PIANKE_MAX_SLOT_RANGE_DAYS):
                self.add_error(
                    "available_to", f"Ask for at most {settings.PIANKE_MAX_SLOT_RANGE_DAYS} days."
                )
            data["available_from"], data["available_to"] = start, end
        return data


class SessionLanguageFormField(forms.CharField):
    """Any tag for a session language (`zh-hans`, `en-GB`), read as the language itself."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return session_language_from(value)
        except ValueError as exc:
            # As a parameter, not the message: the message quotes the input, and django-filter
            # %-formats messages, so a "%" in `?language=` was a 500.
            raise forms.ValidationError("%(error)s", params={"error": str(exc)}) from None


class SessionLanguageFilter(django_filters.CharFilter):
    field_class = SessionLanguageFormField


class CounselorFilter(django_filters.FilterSet):
    specialty = django_filters.CharFilter(field_name="specialties__slug", label="specialty slug")
    language = SessionLanguageFilter(method="filter_contains", label=SESSION_LANGUAGE_HELP)
    mode = django_filters.ChoiceFilter(choices=SessionMode.choices, method="filter_contains")
    available_from = django_filters.IsoDateTimeFilter(
        method="filter_noop", label="has a free slot starting at or after this"
    )
    available_to = django_filters.IsoDateTimeFilter(method="filter_noop", label="… and before this")
    duration = django_filters.ChoiceFilter(
        choices=[(str(m), str(m)) for m in SESSION_LENGTHS],
        method="filter_noop",
        label="session length the free slot must fit (default 15)",
    )

    class Meta:
        model = CounselorProfile
        fields = ["specialty", "language", "mode"]
        form = CounselorFilterForm

    def filter_contains(self, queryset, name, value):
        field = {"language": "languages", "mode": "modes"}[name]
        return queryset.filter(**{f"{field}__contains": [value]})

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        start = self.form.cleaned_data.get("available_from")
        end = self.form.cleaned_data.get("available_to")
        if start and end:
            duration = int(self.form.cleaned_data.get("duration") or 15)
            queryset = queryset.filter(
                counselor_free_filter(
                    profiles=queryset, start=start, end=end, duration_minutes=duration
                )
            )
        return queryset
