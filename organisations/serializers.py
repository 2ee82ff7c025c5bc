"""serializers of organisations: the join and e-mail inputs, and a member's own view of
their organisation and allowance. No serializer here names a member to anyone else."""

from rest_framework import serializers


class JoinInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)


class EmailInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class EmailConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class OrganisationBriefSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()


class MembershipSerializer(serializers.Serializer):
    """The answer to a join: the organisation joined, how, and when."""

    organisation = OrganisationBriefSerializer()
    via = serializers.CharField()
    joined_at = serializers.DateTimeField()


class AllowanceSerializer(serializers.Serializer):
    sessions_per_member = serializers.IntegerField()
    durations = serializers.ListField(child=serializers.IntegerField())
    modes = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    quarter = serializers.CharField(help_text="e.g. 2026 Q4, in the platform's time zone")
    remaining_this_quarter = serializers.IntegerField()


class MyOrganisationSerializer(serializers.Serializer):
    """The caller's organisation (null when they are no member) and what its allowance
    leaves them this quarter."""

    organisation = OrganisationBriefSerializer(allow_null=True)
    allowance = AllowanceSerializer(allow_null=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
