from rest_framework import serializers

from packages.models import LifeStage


class PackageInputSerializer(serializers.Serializer):
    life_stage = serializers.ChoiceField(choices=LifeStage.choices)
    title_en = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    title_zh = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    description_en = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    description_zh = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    sessions = serializers.IntegerField()
    duration_minutes = serializers.ChoiceField(choices=[15, 30])
    within_days = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )


class PackageItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()


class PackageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    counselor = serializers.IntegerField(source="counselor_id", allow_null=True)
    counselor_name = serializers.SerializerMethodField()
    life_stage = serializers.CharField()
    life_stage_label = serializers.CharField(source="get_life_stage_display")
    title = serializers.CharField()
    title_en = serializers.CharField()
    title_zh = serializers.CharField()
    description = serializers.CharField()
    sessions = serializers.IntegerField()
    duration_minutes = serializers.IntegerField()
    within_days = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=False)
    status = serializers.CharField()
    items = PackageItemSerializer(many=True, source="items.all")

    def get_counselor_name(self, package) -> str | None:
        return package.counselor.display_name if package.counselor_id else None


class PurchaseSerializer(serializers.Serializer):
    """A client's own purchase: what is left of it and until when."""

    id = serializers.IntegerField()
    package = PackageSerializer()
    sessions_total = serializers.IntegerField()
    sessions_used = serializers.IntegerField()
    sessions_left = serializers.IntegerField()
    duration_minutes = serializers.IntegerField()
    price_paid = serializers.DecimalField(max_digits=8, decimal_places=2, coerce_to_string=False)
    purchased_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    status = serializers.CharField()
