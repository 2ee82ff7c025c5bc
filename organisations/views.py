"""views of organisations: a client joins (by code, or by confirming an address at the
organisation's domain) and reads their own organisation and allowance. Thin: input
serializer, service, output serializer; the domain errors become HTTP in core/exceptions.py.
An organisation admin's usage figures are GET insights/ (insights.views), not here."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.permissions import IsClient
from organisations import serializers
from organisations.selectors import member_allowance_for_user
from organisations.services import (
    EMAIL_SENT,
    organisation_email_confirm,
    organisation_email_verify_start,
    organisation_join,
)


class JoinThrottle(UserRateThrottle):
    """Per user: a join code is short, so guessing one must be slow."""

    scope = "organisation_join"
    rate = "20/hour"


def _membership(membership) -> dict:
    organisation = membership.organisation
    return serializers.MembershipSerializer(
        {
            "organisation": {"name": organisation.name, "kind": organisation.kind},
            "via": membership.via,
            "joined_at": membership.joined_at,
        }
    ).data


class JoinView(APIView):
    """Join an organisation's sponsored allowance with its join code (clients only). A code
    that matches no active organisation is a 400 on `code`, the same for unknown and
    inactive codes; already a member of an organisation is a 409."""

    permission_classes = [IsClient]
    throttle_classes = [JoinThrottle]

    @extend_schema(
        request=serializers.JoinInputSerializer,
        responses={201: serializers.MembershipSerializer},
    )
    def post(self, request):
        data = serializers.JoinInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = organisation_join(user=request.user, code=data.validated_data["code"])
        return Response(_membership(membership), status=status.HTTP_201_CREATED)


class EmailVerifyView(APIView):
    """Ask for a confirmation link at an address of your organisation's e-mail domain
    (clients only). Always 202 with the same answer, whether or not the domain is an
    organisation's: the answer does not tell which domains are sponsored."""

    permission_classes = [IsClient]
    throttle_classes = [JoinThrottle]

    @extend_schema(
        request=serializers.EmailInputSerializer, responses={202: serializers.DetailSerializer}
    )
    def post(self, request):
        data = serializers.EmailInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation_email_verify_start(user=request.user, email=data.validated_data["email"])
        return Response({"detail": str(EMAIL_SENT)}, status=status.HTTP_202_ACCEPTED)


class EmailConfirmView(APIView):
    """Confirm the link's token: the client joins the organisation (201)."""

    permission_classes = [IsClient]
    throttle_classes = [JoinThrottle]

    @extend_schema(
        request=serializers.EmailConfirmInputSerializer,
        responses={201: serializers.MembershipSerializer},
    )
    def post(self, request):
        data = serializers.EmailConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = organisation_email_confirm(
            user=request.user, token=data.validated_data["token"]
        )
        return Response(_membership(membership), status=status.HTTP_201_CREATED)


class MyOrganisationView(APIView):
    """The caller's organisation and what its allowance leaves them this quarter (clients
    only; `organisation` is null when they are no member)."""

    permission_classes = [IsClient]

    @extend_schema(responses=serializers.MyOrganisationSerializer)
    def get(self, request):
        mine = member_allowance_for_user(user=request.user)
        if mine is None:
            return Response({"organisation": None, "allowance": None})
        allowance = mine.allowance
        return Response(
            serializers.MyOrganisationSerializer(
                {
                    "organisation": {
                        "name": mine.organisation.name,
                        "kind": mine.organisation.kind,
                    },
                    "allowance": {
                        "sessions_per_member": allowance.sessions_per_member,
                        "durations": allowance.durations,
                        "modes": allowance.modes,
                        "active": allowance.is_active and mine.organisation.is_active,
                        "quarter": mine.quarter_label,
                        "remaining_this_quarter": mine.remaining,
                    }
                    if allowance is not None
                    else None,
                }
            ).data
        )
