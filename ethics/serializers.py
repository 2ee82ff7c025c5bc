from rest_framework import serializers

from ethics.models import CrisisAlert, Resource


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
