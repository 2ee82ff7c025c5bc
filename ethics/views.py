"""API of the safety kernel: crisis alerts for the on-call responders, a crisis raised by a
counselor on their session, and the resource directory."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsCounselor, IsResponder
from ethics import serializers
from ethics.filters import CrisisAlertFilter, ResourceFilter
from ethics.models import Resource
from ethics.selectors import alert_queue, booking_is_counselors, risk_checks_for
from ethics.services import alert_acknowledge, alert_resolve, risk_check_record
from listening.services import crisis_raise


class CrisisAlertListView(generics.ListAPIView):
    """The on-call queue: severity, then age. `?status=open&status=acknowledged` to filter."""

    permission_classes = [IsResponder]
    serializer_class = serializers.CrisisAlertSerializer
    filterset_class = CrisisAlertFilter

    def get_queryset(self):
        return alert_queue()


class CrisisAlertAcknowledgeView(APIView):
    permission_classes = [IsResponder]

    @extend_schema(
        request=serializers.AcknowledgeInputSerializer, responses=serializers.CrisisAlertSerializer
    )
    def post(self, request, pk: int):
        data = serializers.AcknowledgeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_acknowledge(alert_id=pk, user=request.user, **data.validated_data)
        return Response(serializers.CrisisAlertSerializer(alert).data)


class CrisisAlertResolveView(APIView):
    permission_classes = [IsResponder]

    @extend_schema(
        request=serializers.ResolveInputSerializer, responses=serializers.CrisisAlertSerializer
    )
    def post(self, request, pk: int):
        data = serializers.ResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_resolve(alert_id=pk, user=request.user, **data.validated_data)
        return Response(serializers.CrisisAlertSerializer(alert).data)


class CrisisRaiseView(APIView):
    """A counselor raises a crisis on one of their own sessions."""

    permission_classes = [IsCounselor]

    @extend_schema(
        request=serializers.RaiseInputSerializer, responses={201: serializers.CrisisAlertSerializer}
    )
    def post(self, request):
        data = serializers.RaiseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = crisis_raise(
            counselor=request.user,
            booking_id=data.validated_data["booking"],
            note=data.validated_data["note"],
        )
        return Response(
            serializers.CrisisAlertSerializer(alert).data, status=status.HTTP_201_CREATED
        )


class ResourceListView(generics.ListAPIView):
    """The referral directory (public): filter by `kind`, `region`, `language`."""

    permission_classes = [AllowAny]
    serializer_class = serializers.ResourceSerializer
    filterset_class = ResourceFilter
    queryset = Resource.objects.filter(is_active=True)


class RiskCheckView(APIView):
    """The booking's counselor records a C-SSRS screen (POST) and reads their own (GET).
    Anybody else gets 404."""

    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.RiskCheckSerializer(many=True))
    def get(self, request, pk: int):
        if not booking_is_counselors(counselor=request.user, booking_id=pk):
            raise Http404
        checks = risk_checks_for(counselor=request.user, booking_id=pk)
        return Response(serializers.RiskCheckSerializer(checks, many=True).data)

    @extend_schema(
        request=serializers.RiskCheckInputSerializer,
        responses={201: serializers.RiskCheckSerializer},
    )
    def post(self, request, pk: int):
        if not booking_is_counselors(counselor=request.user, booking_id=pk):
            raise Http404  # before validation: a stranger learns nothing about the booking
        data = serializers.RiskCheckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = risk_check_record(counselor=request.user, booking_id=pk, **data.validated_data)
        return Response(serializers.RiskCheckSerializer(check).data, status=status.HTTP_201_CREATED)
