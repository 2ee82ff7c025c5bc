import json

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
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
from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Credential,
    Offering,
    Specialty,
    ToolkitItem,
)


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


# --- Offerings and toolkit items ---------------------------------------------------------------


class OfferingItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    title = serializers.CharField()


class OfferingSerializer(serializers.ModelSerializer):
    """A published offering as the public sees it (`offerings/`, a counselor's profile)."""

    counselor = serializers.IntegerField(source="counselor_id", read_only=True)
    counselor_name = serializers.CharField(source="counselor.display_name", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    price = serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, read_only=True
    )
    specialties = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    items = OfferingItemSerializer(many=True, read_only=True)

    class Meta:
        model = Offering
        fields = [
            "id",
            "counselor",
            "counselor_name",
            "title",
            "title_en",
            "title_zh",
            "description",
            "description_en",
            "description_zh",
            "duration_minutes",
            "modes",
            "price",
            "specialties",
            "items",
        ]


class OfferingOwnSerializer(OfferingSerializer):
    """The counselor's own view: also the status and, if staff unpublished it, why and when."""

    class Meta(OfferingSerializer.Meta):
        fields = OfferingSerializer.Meta.fields + [
            "status",
            "unpublished_reason",
            "unpublished_at",
            "created_at",
            "updated_at",
        ]


class OfferingUpdateSerializer(serializers.Serializer):
    """PATCH: any of these; the rest keep their values. Titles: at least one language."""

    title_en = serializers.CharField(max_length=120, required=False, allow_blank=True)
    title_zh = serializers.CharField(max_length=120, required=False, allow_blank=True)
    description_en = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    description_zh = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS, required=False)
    modes = serializers.ListField(
        child=serializers.ChoiceField(choices=SessionMode.choices),
        required=False,
        max_length=len(SessionMode.choices),
        help_text="A subset of the modes on your profile.",
    )
    price = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        help_text="Within the platform's bounds (OFFERING_PRICE_MIN…OFFERING_PRICE_MAX).",
    )
    specialties = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=20
    )
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=10,
        help_text="Toolkit item ids: your own or the library's.",
    )


class OfferingInputSerializer(OfferingUpdateSerializer):
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS)
    modes = serializers.ListField(
        child=serializers.ChoiceField(choices=SessionMode.choices),
        max_length=len(SessionMode.choices),
        help_text="A subset of the modes on your profile.",
    )
    price = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        help_text="Within the platform's bounds (OFFERING_PRICE_MIN…OFFERING_PRICE_MAX).",
    )


class UnpublishInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Shown to the counselor.")


class ToolkitItemSerializer(serializers.ModelSerializer):
    """A toolkit item: `fields` is the structure the client fills in (see ToolkitItem);
    `audio_url` plays a guided audio; `library` is true for the platform's starter library."""

    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    library = serializers.BooleanField(source="is_library", read_only=True)
    fields = serializers.JSONField(read_only=True)
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = ToolkitItem
        fields = [
            "id",
            "kind",
            "slug",
            "library",
            "title",
            "title_en",
            "title_zh",
            "body",
            "body_en",
            "body_zh",
            "fields",
            "audio_url",
            "audio_content_type",
            "audio_seconds",
        ]

    def get_audio_url(self, obj) -> str | None:
        if not obj.audio:
            return None
        return reverse("counselors:api:toolkit-item-audio", kwargs={"pk": obj.pk})


class ToolkitItemUpdateSerializer(serializers.Serializer):
    """PATCH (JSON or multipart): titles, bodies, `fields`, and a guided audio's file."""

    title_en = serializers.CharField(max_length=120, required=False, allow_blank=True)
    title_zh = serializers.CharField(max_length=120, required=False, allow_blank=True)
    body_en = serializers.CharField(max_length=6000, required=False, allow_blank=True)
    body_zh = serializers.CharField(max_length=6000, required=False, allow_blank=True)
    fields = serializers.JSONField(
        required=False,
        help_text=(
            "diary: [{key, label_en, label_zh, type: text|scale}]; checklist: [{key, label_en, "
            "label_zh, explain_en, explain_zh}]; worksheet: [{key, label_en, label_zh}]; "
            "audio: []. In multipart, a JSON string."
        ),
    )
    audio = serializers.FileField(
        required=False, help_text="A guided audio's file: webm, ogg, mp4 or mpeg audio."
    )

    def validate_fields(self, value):
        if isinstance(value, str):  # multipart sends JSON as text
            try:
                value = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("Not valid JSON.") from None
        return value


class ToolkitItemInputSerializer(ToolkitItemUpdateSerializer):
    kind = serializers.ChoiceField(choices=ToolkitItem.Kind.choices)


class ReviewSerializer(serializers.Serializer):
    """A review as a profile shows it: never a name or a date finer than the month."""

    rating = serializers.IntegerField()
    comment = serializers.CharField()
    month = serializers.CharField(help_text="YYYY-MM")


class CounselorDetailSerializer(CounselorSerializer):
    """`counselors/{id}/`: the public profile with its published offerings and, from three
    written reviews on, the reviews (`[]` below that)."""

    offerings = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField()

    class Meta(CounselorSerializer.Meta):
        fields = CounselorSerializer.Meta.fields + ["offerings", "reviews"]

    @extend_schema_field(OfferingSerializer(many=True))
    def get_offerings(self, obj):
        return OfferingSerializer(self.context.get("offerings", []), many=True).data

    @extend_schema_field(ReviewSerializer(many=True))
    def get_reviews(self, obj):
        return ReviewSerializer(self.context.get("reviews", []), many=True).data
