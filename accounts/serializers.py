from rest_framework import serializers

from accounts.models import User, validate_timezone


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)
    role = serializers.ChoiceField(choices=[User.Role.CLIENT, User.Role.COUNSELOR])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    timezone = serializers.CharField(required=False, max_length=64, validators=[validate_timezone])
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)


class RegisterOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role"]


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role", "timezone", "language", "email"]
        read_only_fields = ["id", "username", "role", "email"]


class MeUpdateSerializer(serializers.Serializer):
    timezone = serializers.CharField(required=False, max_length=64, validators=[validate_timezone])
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)


class ConsentSerializer(serializers.Serializer):
    version = serializers.CharField()
    language = serializers.CharField()
    text = serializers.CharField()
    agreed = serializers.BooleanField()
    agreed_at = serializers.DateTimeField(allow_null=True)


class ConsentAgreeInputSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=16)


class ConsentWithdrawOutputSerializer(serializers.Serializer):
    withdrawn = serializers.BooleanField()
    message = serializers.CharField()


class IntakeInputSerializer(serializers.Serializer):
    consent_version = serializers.CharField(max_length=16)
    topic = serializers.CharField(max_length=120)
    distress = serializers.IntegerField(min_value=0, max_value=10)
    phq4 = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=3),
        min_length=4,
        max_length=4,
        help_text="PHQ-4 answers in order: nervous, worry, interest, down",
    )
    item9 = serializers.IntegerField(
        min_value=0,
        max_value=3,
        help_text="PHQ-9 item 9: thoughts of being better off dead or of self-harm",
    )


class _ResourceItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    kind = serializers.CharField(required=False)
    name = serializers.CharField()
    contact = serializers.CharField()
    hours = serializers.CharField()
    region = serializers.CharField()
    language = serializers.CharField()
    description = serializers.CharField()


class _LongerTermCareSerializer(serializers.Serializer):
    message = serializers.CharField()
    resources = _ResourceItemSerializer(many=True)


class _CrisisResourcesSerializer(serializers.Serializer):
    hotlines = _ResourceItemSerializer(many=True)


class IntakeOutputSerializer(serializers.Serializer):
    """Documents the intake response (built by accounts.services.intake_outcome)."""

    phq4_score = serializers.IntegerField()
    band = serializers.ChoiceField(choices=["normal", "mild", "moderate", "severe"])
    risk = serializers.ChoiceField(choices=["high", "low", "none"])
    longer_term_care = _LongerTermCareSerializer(
        required=False, help_text="only when the band is severe"
    )
    crisis_resources = _CrisisResourcesSerializer(
        required=False, help_text="only when the risk is high"
    )
