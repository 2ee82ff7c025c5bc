from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AwareDateTimeField
from core.sessions import SESSION_LENGTHS, SessionLanguage, SessionMode
from matching.models import MatchRequest


class WindowSerializer(serializers.Serializer):
    earliest = AwareDateTimeField()
    latest = AwareDateTimeField()

    def validate(self, attrs):
        if attrs["earliest"] >= attrs["latest"]:
            raise serializers.ValidationError({"latest": ["Must be after earliest."]})
        return attrs


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["now"]},
            {
                "type": "object",
                "properties": {
                    "earliest": {"type": "string", "format": "date-time"},
                    "latest": {"type": "string", "format": "date-time"},
                },
                "required": ["earliest", "latest"],
            },
        ]
    }
)
class WhenField(serializers.Field):
    """`"now"` (talk now) or `{"earliest", "latest"}` (suggest scheduled slots in that window)."""

    default_error_messages = {"invalid": 'Use "now" or an object with "earliest" and "latest".'}

    def to_internal_value(self, data):
        if data == "now":
            return {"when": MatchRequest.When.NOW}
        if not isinstance(data, dict):
            self.fail("invalid")
        window = WindowSerializer(data=data)
        if not window.is_valid():
            raise serializers.ValidationError(window.errors)
        return {"when": MatchRequest.When.SCHEDULED, **window.validated_data}

    def to_representation(self, value):
        return value


class MatchRequestInputSerializer(serializers.Serializer):
    topic = serializers.SlugField(max_length=50)
    mode = serializers.ChoiceField(choices=SessionMode.choices)
    language = serializers.CharField(
        max_length=16,
        help_text="A session language code: "
        + ", ".join(SessionLanguage.values)
        + " (a regional tag such as zh-hans or en-GB is read as zh or en).",
    )
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS)
    when = WhenField()

    def validate_language(self, value: str) -> str:
        code = value.strip().lower().replace("_", "-")
        if code not in SessionLanguage.values:
            code = "yue" if code in ("zh-yue", "zh-hk") else code.split("-")[0]
        if code not in SessionLanguage.values:
            known = ", ".join(SessionLanguage.values)
            raise serializers.ValidationError(f"Unknown language {value!r}; use one of {known}.")
        return code

    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    wants_someone_new = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Never match me with a counselor I have seen before.",
    )


class SuggestionSerializer(serializers.Serializer):
    counselor = serializers.IntegerField()
    display_name = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class MatchRequestSerializer(serializers.ModelSerializer):
    when = serializers.SerializerMethodField()
    booking = serializers.IntegerField(source="booking_id", read_only=True, allow_null=True)
    suggestions = SuggestionSerializer(many=True, read_only=True)
    hotlines = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Crisis lines for the client's region, when the request shows risk.",
    )

    class Meta:
        model = MatchRequest
        fields = [
            "id",
            "status",
            "topic",
            "mode",
            "language",
            "duration_minutes",
            "when",
            "booking",
            "suggestions",
            "hotlines",
            "created_at",
            "deadline_at",
            "matched_at",
        ]

    @extend_schema_field(WhenField)
    def get_when(self, obj):
        if obj.when == MatchRequest.When.NOW:
            return "now"
        return {"earliest": obj.earliest.isoformat(), "latest": obj.latest.isoformat()}


class PresenceInputSerializer(serializers.Serializer):
    online = serializers.BooleanField()


class PresenceSerializer(serializers.Serializer):
    online = serializers.BooleanField(
        help_text="On talk-now duty (a heartbeat within the last 60 seconds)."
    )
    last_seen_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Renew before this (POST again, or heartbeat on /ws/counselor/)."
    )
    missed_in_a_row = serializers.IntegerField()


class OfferRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    topic = serializers.CharField()
    mode = serializers.CharField()
    language = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    high_risk = serializers.BooleanField()
    topic_name = serializers.CharField()
    mode_name = serializers.CharField()


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    request = OfferRequestSerializer()
    reasons = serializers.ListField(child=serializers.CharField())
    reasons_display = serializers.ListField(
        child=serializers.CharField(), help_text="`reasons` in the viewer's language"
    )
    score = serializers.FloatField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    booking = serializers.IntegerField(allow_null=True)
