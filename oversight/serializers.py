"""Serializers of oversight's API (referrals, complaints, flags)."""

from rest_framework import serializers

from ethics.models import AuditLog, Complaint, EthicsFlag, FlagNote, Referral, Resource
from oversight.services import ResolutionAction


class ReferralResourceSerializer(serializers.ModelSerializer):
    """The directory entry a referral points to (the same fields as `resources/`)."""

    class Meta:
        model = Resource
        fields = Resource.PUBLIC_FIELDS


class ReferralInputSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1)
    resource = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=2000)
    urgency = serializers.ChoiceField(
        choices=Referral.Urgency.choices, default=Referral.Urgency.ROUTINE
    )


class ReferralSerializer(serializers.ModelSerializer):
    resource = ReferralResourceSerializer(read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "booking",
            "counselor",
            "client",
            "resource",
            "reason",
            "urgency",
            "status",
            "created_at",
            "responded_at",
            "follow_up_due_at",
            "follow_up_sent_at",
        ]


class ComplaintInputSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1)
    text = serializers.CharField(max_length=4000)


class ComplaintSerializer(serializers.ModelSerializer):
    """What the complaining client gets back (no flag internals)."""

    status = serializers.CharField(source="flag.status", read_only=True)

    class Meta:
        model = Complaint
        fields = ["id", "booking", "text", "status", "created_at"]


class FlagNoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class FlagNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlagNote
        fields = ["id", "author", "text", "created_at"]


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = ["id", "actor", "action", "booking", "detail", "created_at"]


class FlagSerializer(serializers.ModelSerializer):
    """A flag in the staff review queue."""

    class Meta:
        model = EthicsFlag
        fields = [
            "id",
            "kind",
            "status",
            "booking",
            "created_at",
            "counselor",
            "alert",
            "summary",
            "assigned_to",
            "resolution",
            "action",
            "resolved_at",
            "resolved_by",
        ]


class FlagDetailSerializer(FlagSerializer):
    """One flag for staff: with the complaint's text, the notes and the audit log."""

    complaint = serializers.SerializerMethodField()
    notes = FlagNoteSerializer(many=True, read_only=True)
    audit_log = AuditLogSerializer(many=True, read_only=True)

    class Meta(FlagSerializer.Meta):
        fields = FlagSerializer.Meta.fields + ["complaint", "notes", "audit_log"]

    def get_complaint(self, flag) -> dict | None:
        complaint = getattr(flag, "complaint", None)
        if complaint is None:
            return None
        return {
            "id": complaint.pk,
            "client": complaint.client_id,
            "text": complaint.text,
            "crisis_alert": complaint.crisis_alert_id,
            "created_at": complaint.created_at.isoformat(),
        }


class FlagOutcomeSerializer(serializers.ModelSerializer):
    """What a counselor sees of a resolved flag about them: the outcome only."""

    class Meta:
        model = EthicsFlag
        fields = ["id", "kind", "resolved_at", "resolution"]


class FlagResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=4000)
    action = serializers.ChoiceField(
        choices=[(a, a) for a in ResolutionAction.ALL], default=ResolutionAction.NONE
    )


class FlagContentSerializer(serializers.Serializer):
    flag = serializers.IntegerField()
    booking = serializers.IntegerField()
    content_purged_at = serializers.DateTimeField(allow_null=True)
    ethics_hold = serializers.BooleanField()
    messages = serializers.ListField(child=serializers.DictField())


class ConcernReportInputSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=["dual-relationship", "boundary"])
    text = serializers.CharField(max_length=4000)
