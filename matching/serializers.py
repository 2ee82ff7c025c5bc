from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AwareDateTimeField, SessionLanguageField
from core.sessions import SESSION_LENGTHS, SessionMode
from matching.models import MatchRequest, Surge
from matching.selectors import (
    continuity_on_duty,
    earliest_slots,
    surge_state,
    surges_extras,
    wait_estimate,
)


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
    language = SessionLanguageField()
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS)
    when = WhenField()

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


class WaitEstimateSerializer(serializers.Serializer):
    low_seconds = serializers.IntegerField()
    high_seconds = serializers.IntegerField(
        allow_null=True, help_text="null: no upper bound (nobody on duty could take it now)"
    )
    counselors_on_duty = serializers.IntegerField(
        help_text="On-duty counselors who offer this mode and language"
    )


class EarliestSlotSerializer(serializers.Serializer):
    counselor = serializers.IntegerField()
    display_name = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    topic = serializers.BooleanField(help_text="The counselor has the requested topic")


class AlternativesSerializer(serializers.Serializer):
    earliest_slots = EarliestSlotSerializer(many=True)
    async_mode = serializers.BooleanField(help_text="An async session can be booked instead")


class ContinuitySerializer(serializers.Serializer):
    counselor = serializers.IntegerField()
    display_name = serializers.CharField()
    preferred = serializers.BooleanField(help_text="Marked as preferred (else met before)")


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


class MatchRequestDetailSerializer(MatchRequestSerializer):
    """One request (GET match-requests/{id}/): the list's fields plus, for an open talk-now
    request, `position`, `wait_estimate`, `alternatives` and `continuity` (null / empty
    otherwise). Only here: they cost queries, and the waiting page polls this."""

    position = serializers.SerializerMethodField(
        help_text="1-based place in the queue (high risk, then surge region, then oldest)"
    )
    wait_estimate = serializers.SerializerMethodField()
    alternatives = serializers.SerializerMethodField(
        help_text="When the estimate's high end exceeds 3 minutes: bookable slots and async"
    )
    continuity = serializers.SerializerMethodField(
        help_text="Counselors you met or marked preferred who are on duty now"
    )

    class Meta(MatchRequestSerializer.Meta):
        fields = MatchRequestSerializer.Meta.fields + [
            "position",
            "wait_estimate",
            "alternatives",
            "continuity",
        ]

    def _estimate(self, obj) -> dict | None:
        cache = self.__dict__.setdefault("_estimates", {})
        if obj.pk not in cache:
            cache[obj.pk] = wait_estimate(request=obj)
        return cache[obj.pk]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_position(self, obj):
        estimate = self._estimate(obj)
        return estimate["position"] if estimate else None

    @extend_schema_field(WaitEstimateSerializer(allow_null=True))
    def get_wait_estimate(self, obj):
        estimate = self._estimate(obj)
        if estimate is None:
            return None
        return {k: estimate[k] for k in ("low_seconds", "high_seconds", "counselors_on_duty")}

    @extend_schema_field(AlternativesSerializer(allow_null=True))
    def get_alternatives(self, obj):
        estimate = self._estimate(obj)
        if estimate is None or not estimate["exceeds_alternatives_threshold"]:
            return None
        return {"earliest_slots": earliest_slots(request=obj), "async_mode": True}

    @extend_schema_field(ContinuitySerializer(many=True))
    def get_continuity(self, obj):
        if self._estimate(obj) is None or obj.wants_someone_new:
            return []
        return continuity_on_duty(client=obj.client, language=obj.language, mode=obj.mode)


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


class ContinuityQuerySerializer(serializers.Serializer):
    language = SessionLanguageField(required=False)
    mode = serializers.ChoiceField(choices=SessionMode.choices, required=False)


class ContinuityListSerializer(serializers.Serializer):
    on_duty = ContinuitySerializer(many=True)


class ReservePoolSerializer(serializers.Serializer):
    reserve_pool = serializers.BooleanField(
        help_text="Called up (e-mail and dashboard) when staff declare a surge you match"
    )


class SurgeInputSerializer(serializers.Serializer):
    region = serializers.CharField(max_length=8, help_text="A region code such as CN or HK")
    languages = serializers.ListField(
        child=serializers.CharField(max_length=8), allow_empty=True, max_length=20
    )
    specialty = serializers.SlugField(required=False, allow_null=True, allow_blank=True)
    banner_en = serializers.CharField(max_length=300, allow_blank=True)
    banner_zh = serializers.CharField(max_length=300, allow_blank=True)
    starts_at = AwareDateTimeField(required=False, help_text="Default: now")
    ends_at = AwareDateTimeField()


class SurgeUpdateSerializer(serializers.Serializer):
    banner_en = serializers.CharField(max_length=300, required=False, allow_blank=True)
    banner_zh = serializers.CharField(max_length=300, required=False, allow_blank=True)
    ends_at = AwareDateTimeField(required=False)


class SurgeFiguresSerializer(serializers.Serializer):
    counselors_on_duty = serializers.IntegerField()
    queue_length = serializers.IntegerField(
        allow_null=True, help_text="null: fewer than 5 distinct clients"
    )
    median_wait_seconds = serializers.IntegerField(
        allow_null=True, help_text="Last hour; null: fewer than 5 distinct clients"
    )
    requests_last_hour = serializers.IntegerField(
        allow_null=True, help_text="null: fewer than 5 distinct clients"
    )
    k = serializers.IntegerField()


class SurgeEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id")
    changes = serializers.DictField()
    created_at = serializers.DateTimeField()


class SurgeSerializer(serializers.ModelSerializer):
    # null: a surge for every specialty (the schema said a string).
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    declared_by = serializers.IntegerField(source="declared_by_id", read_only=True)
    ended_by = serializers.IntegerField(source="ended_by_id", read_only=True, allow_null=True)
    state = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()
    calls = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = Surge
        fields = [
            "id",
            "region",
            "languages",
            "specialty",
            "banner_en",
            "banner_zh",
            "starts_at",
            "ends_at",
            "state",
            "declared_by",
            "created_at",
            "ended_at",
            "ended_by",
            "figures",
            "calls",
            "events",
        ]

    @extend_schema_field(
        serializers.ChoiceField(choices=["scheduled", "live", "ended"], read_only=True)
    )
    def get_state(self, obj):
        return surge_state(obj)

    def _extras(self, obj) -> dict:
        # The list view passes a page's extras in the context (surges_extras, a fixed number
        # of queries); a single surge reads its own once, kept in the same context.
        extras = self.context.setdefault("surge_extras", {})
        if obj.pk not in extras:
            extras.update(surges_extras([obj]))
        return extras[obj.pk]

    @extend_schema_field(SurgeFiguresSerializer)
    def get_figures(self, obj):
        return self._extras(obj)["figures"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"pending": {"type": "integer"}, "sent": {"type": "integer"}},
        }
    )
    def get_calls(self, obj):
        return self._extras(obj)["calls"]

    @extend_schema_field(SurgeEventSerializer(many=True))
    def get_events(self, obj):
        return SurgeEventSerializer(self._extras(obj)["events"], many=True).data
