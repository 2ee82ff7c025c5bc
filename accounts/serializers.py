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
    consent_version = serializers.CharField(
        max_length=16,
        help_text="The version of the consent text the client was shown (GET consent/). With no "
        "standing agreement, sending the current version agrees to it, recorded exactly as POST "
        "consent/ records it. After a withdrawal, agree again with POST consent/ first (else 409 "
        "consent_required). Another version: 400.",
    )
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


class NotificationPreferenceSerializer(serializers.Serializer):
    """The user's notification preferences (the defaults when they never changed them)."""

    email_reminders = serializers.BooleanField(
        help_text="Reminders by e-mail (only sent when the account has an address)."
    )
    in_page_reminders = serializers.BooleanField(help_text="Reminders as a notice on Pianke.")
    remind_24h = serializers.BooleanField(help_text="A reminder a day before a session.")
    remind_1h = serializers.BooleanField(help_text="A reminder an hour before a session.")
    quiet_start = serializers.TimeField(
        allow_null=True, format="%H:%M", help_text="Quiet hours start (HH:MM, your time zone)."
    )
    quiet_end = serializers.TimeField(
        allow_null=True, format="%H:%M", help_text="Quiet hours end (HH:MM, may wrap midnight)."
    )
    timezone = serializers.CharField(
        source="user.timezone", read_only=True, help_text="The zone quiet hours are read in."
    )


class NotificationPreferenceUpdateSerializer(serializers.Serializer):
    email_reminders = serializers.BooleanField(required=False)
    in_page_reminders = serializers.BooleanField(required=False)
    remind_24h = serializers.BooleanField(required=False)
    remind_1h = serializers.BooleanField(required=False)
    quiet_start = serializers.TimeField(required=False, allow_null=True)
    quiet_end = serializers.TimeField(required=False, allow_null=True)


class NoticeSerializer(serializers.Serializer):
    """A notice as rendered for the reader (accounts.selectors.notice_rendered)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField(help_text="In the request's language, times in your zone.")
    url = serializers.CharField(help_text="A path on this site, or empty.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NoticeListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


class NoticesReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
