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
