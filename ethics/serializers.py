from rest_framework import serializers

from core.encryption import decrypt_text
from ethics.models import CrisisAlert, Resource, RiskCheck


class CrisisAlertSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(source="get_severity_display")

    class Meta:
        model = CrisisAlert
        fields = [
            "id",
            "severity",
            "status",
            "source",
            "booking",
            "client",
            "reasons",
            "signal_count",
            "note",
            "created_at",
            "escalation_level",
            "overdue",
            "nobody_on_shift",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "outcome",
            "outcome_note",
        ]


class AcknowledgeInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CrisisAlert.Outcome.choices)
    note = serializers.CharField(max_length=4000)


class RaiseInputSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=2000)


class ResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = Resource.PUBLIC_FIELDS


class RiskCheckInputSerializer(serializers.Serializer):
    """The six questions of the C-SSRS screen; 3-5 only after a yes to 2, and the 3-month
    question only after a yes to 6 (the service says which are missing)."""

    q1_wish_dead = serializers.BooleanField()
    q2_thoughts = serializers.BooleanField()
    q3_method = serializers.BooleanField(required=False, allow_null=True, default=None)
    q4_intent = serializers.BooleanField(required=False, allow_null=True, default=None)
    q5_plan = serializers.BooleanField(required=False, allow_null=True, default=None)
    q6_behavior = serializers.BooleanField()
    q6_recent = serializers.BooleanField(required=False, allow_null=True, default=None)
    safety_plan = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )
    referral_note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


def _plain(token) -> str:
    return decrypt_text(bytes(token)) if token else ""


class RiskCheckSerializer(serializers.ModelSerializer):
    # A plain string in the schema: an enum here would collide with CrisisAlert's `outcome`.
    outcome = serializers.CharField(read_only=True)
    safety_plan = serializers.SerializerMethodField()
    referral_note = serializers.SerializerMethodField()

    def get_safety_plan(self, obj) -> str:
        return _plain(obj.safety_plan_ciphertext)

    def get_referral_note(self, obj) -> str:
        return _plain(obj.referral_note_ciphertext)

    class Meta:
        model = RiskCheck
        fields = [
            "id",
            "booking",
            "alert",
            "q1_wish_dead",
            "q2_thoughts",
            "q3_method",
            "q4_intent",
            "q5_plan",
            "q6_behavior",
            "q6_recent",
            "outcome",
            "safety_plan",
            "referral_note",
            "created_at",
        ]
