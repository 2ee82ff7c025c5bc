from rest_framework import serializers

from accounts.models import validate_timezone
from core.fields import AwareDateTimeField, SessionLanguageField
from core.sessions import (
    DEFAULT_SESSION_LENGTH,
    SESSION_LANGUAGE_HELP,
    SESSION_LENGTHS,
    SessionLanguage,
    SessionMode,
)
from counselors.models import AvailabilityWindow, CounselorProfile, Credential, Specialty


class SpecialtySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Specialty
        fields = ["slug", "name", "name_en", "name_zh"]


class CounselorSerializer(serializers.ModelSerializer):
    """The public profile."""

    id = serializers.IntegerField(source="pk", read_only=True)
    specialties = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    timezone = serializers.CharField(source="user.timezone", read_only=True)
    rating = serializers.DecimalField(
        max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    price_15 = serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, read_only=True
    )
    price_30 = serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = CounselorProfile
        fields = [
            "id",
            "display_name",
            "bio",
            "specialties",
            "languages",
            "modes",
            "price_15",
            "price_30",
            "timezone",
            "rating",
            "review_count",
        ]


class CounselorOwnSerializer(CounselorSerializer):
    """The counselor's own view: the public profile plus booking rules and verification state."""

    class Meta(CounselorSerializer.Meta):
        fields = CounselorSerializer.Meta.fields + [
            "daily_cap",
            "min_notice_minutes",
            "buffer_minutes",
            "reschedule_cutoff_minutes",
            "verification",
            "is_active",
            "reserve_pool",  # also PUT counselors/me/reserve-pool/ (the dashboard's switch)
        ]


class CounselorUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False)
    bio = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    specialties = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=20
    )
    languages = serializers.ListField(
        child=SessionLanguageField(),
        required=False,
        max_length=len(SessionLanguage.choices),
        help_text="The languages you hold sessions in. " + SESSION_LANGUAGE_HELP,
    )
    modes = serializers.ListField(
        child=serializers.ChoiceField(choices=SessionMode.choices),
        required=False,
        max_length=len(SessionMode.choices),
    )
    price_15 = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, required=False)
    price_30 = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, required=False)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    daily_cap = serializers.IntegerField(min_value=1, max_value=48, required=False)
    min_notice_minutes = serializers.IntegerField(
        min_value=0, max_value=7 * 24 * 60, required=False
    )
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=60, required=False)
    reschedule_cutoff_minutes = serializers.IntegerField(
        min_value=0, max_value=7 * 24 * 60, required=False
    )
    reserve_pool = serializers.BooleanField(
        required=False, help_text="Join the reserve pool that surges call up."
    )

    def validate_languages(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # zh and zh-hans are one language, listed once


class VerifyInputSerializer(serializers.Serializer):
    approved = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = ["id", "licence_type", "number", "issuing_body", "valid_until", "created_at"]
        read_only_fields = ["id", "created_at"]


class WindowUpdateSerializer(serializers.Serializer):
    """PATCH: any fields of the window's own kind; the rest keep their values."""

    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    weekday = serializers.IntegerField(required=False, min_value=0, max_value=6)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    timezone = serializers.CharField(required=False, max_length=64, validators=[validate_timezone])
    valid_from = serializers.DateField(required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)


class WindowInputSerializer(WindowUpdateSerializer):
    """One-off `{start, end}` or weekly `{weekday, start_time, end_time, timezone, valid_from, valid_until}`."""

    def validate(self, attrs):
        weekly = "weekday" in attrs
        if weekly:
            missing = [f for f in ("start_time", "end_time") if f not in attrs]
            stray = [f for f in ("start", "end") if f in attrs]
        else:
            missing = [f for f in ("start", "end") if f not in attrs]
            stray = [
                f
                for f in ("start_time", "end_time", "timezone", "valid_from", "valid_until")
                if f in attrs
            ]
        errors = {f: ["This field is required."] for f in missing}
        errors.update(
            {
                f: ["Not allowed with a %s window." % ("weekly" if weekly else "one-off")]
                for f in stray
            }
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class WindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = AvailabilityWindow
        fields = [
            "id",
            "kind",
            "start",
            "end",
            "weekday",
            "start_time",
            "end_time",
            "timezone",
            "valid_from",
            "valid_until",
            "created_at",
        ]


class SlotQuerySerializer(serializers.Serializer):
    """`?from=…&to=…&duration=15|30`; `from` defaults to now, `to` to a week after `from`."""

    from_ = AwareDateTimeField(required=False)
    to = AwareDateTimeField(required=False)
    duration = serializers.ChoiceField(
        choices=SESSION_LENGTHS, required=False, default=DEFAULT_SESSION_LENGTH
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword
        return fields


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class TimeOffInputSerializer(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TimeOffSessionSerializer(serializers.Serializer):
    """A session booked inside time off, as its counselor sees it in the list (no topic)."""

    id = serializers.IntegerField(source="pk")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    mode = serializers.CharField()
    status = serializers.CharField()


class TimeOffSerializer(serializers.Serializer):
    """A time-off range (inclusive local dates in the counselor's zone) and the confirmed
    sessions still booked inside it, which the counselor keeps or cancels."""

    id = serializers.IntegerField(source="pk")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    sessions = serializers.SerializerMethodField()

    def get_sessions(self, obj) -> list[dict]:
        sessions = self.context.get("sessions", {}).get(obj.pk, [])
        return TimeOffSessionSerializer(sessions, many=True).data
