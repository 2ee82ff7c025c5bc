import datetime as dt

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.permissions import IsCounselor, IsStaffMember
from core.sessions import SESSION_LENGTHS
from counselors import serializers
from counselors.filters import CounselorFilter
from counselors.models import AvailabilityWindow, CounselorProfile, Specialty, TimeOff
from counselors.selectors import (
    counselor_get_listed,
    counselor_list_listed,
    time_off_for_counselor,
)
from counselors.services import (
    counselor_profile_update,
    counselor_verify,
    credential_add,
    time_off_add,
    time_off_remove,
    window_create,
    window_delete,
    window_update,
)
from listening.selectors import counselor_free_slots, time_off_sessions


class SpecialtyListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=serializers.SpecialtySerializer(many=True))
    def get(self, request):
        return Response(serializers.SpecialtySerializer(Specialty.objects.all(), many=True).data)


class CounselorListView(generics.ListAPIView):
    """Verified, active counselors; filter by specialty, language, mode and free time."""

    permission_classes = [AllowAny]
    serializer_class = serializers.CounselorSerializer
    filterset_class = CounselorFilter
    # The free-time filter computes availability: bounded per address so it cannot be used to load the server.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "directory"

    def get_queryset(self):
        return counselor_list_listed()


class CounselorDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=serializers.CounselorSerializer)
    def get(self, request, pk: int):
        return Response(serializers.CounselorSerializer(counselor_get_listed(counselor_id=pk)).data)


class CounselorMeView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.CounselorOwnSerializer)
    def get(self, request):
        return Response(serializers.CounselorOwnSerializer(request.user.counselor_profile).data)

    @extend_schema(
        request=serializers.CounselorUpdateSerializer, responses=serializers.CounselorOwnSerializer
    )
    def patch(self, request):
        data = serializers.CounselorUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = counselor_profile_update(
            profile=request.user.counselor_profile, **data.validated_data
        )
        profile = CounselorProfile.objects.select_related("user").get(pk=profile.pk)
        return Response(serializers.CounselorOwnSerializer(profile).data)


class CounselorVerifyView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        request=serializers.VerifyInputSerializer, responses=serializers.CounselorOwnSerializer
    )
    def post(self, request, pk: int):
        data = serializers.VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = counselor_verify(counselor_id=pk, reviewer=request.user, **data.validated_data)
        return Response(serializers.CounselorOwnSerializer(profile).data)


class CredentialListView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.CredentialSerializer(many=True))
    def get(self, request):
        credentials = request.user.counselor_profile.credentials.order_by("created_at")
        return Response(serializers.CredentialSerializer(credentials, many=True).data)

    @extend_schema(
        request=serializers.CredentialSerializer, responses={201: serializers.CredentialSerializer}
    )
    def post(self, request):
        data = serializers.CredentialSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = credential_add(profile=request.user.counselor_profile, **data.validated_data)
        return Response(
            serializers.CredentialSerializer(credential).data, status=status.HTTP_201_CREATED
        )


class WindowListView(generics.ListAPIView):
    """The counselor's own availability windows; POST publishes one (overlapping ones merge)."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.WindowSerializer
    filterset_class = None

    def get_queryset(self):
        return AvailabilityWindow.objects.filter(counselor_id=self.request.user.id)

    @extend_schema(
        request=serializers.WindowInputSerializer, responses={201: serializers.WindowSerializer}
    )
    def post(self, request):
        data = serializers.WindowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "timezone" in fields:
            fields["timezone_name"] = fields.pop("timezone")
        window = window_create(profile=request.user.counselor_profile, **fields)
        return Response(serializers.WindowSerializer(window).data, status=status.HTTP_201_CREATED)


class WindowDetailView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.WindowSerializer)
    def get(self, request, pk: int):
        window = AvailabilityWindow.objects.get(pk=pk, counselor_id=request.user.id)
        return Response(serializers.WindowSerializer(window).data)

    @extend_schema(
        request=serializers.WindowUpdateSerializer, responses=serializers.WindowSerializer
    )
    def patch(self, request, pk: int):
        data = serializers.WindowUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "timezone" in fields:
            fields["timezone_name"] = fields.pop("timezone")
        window = window_update(profile=request.user.counselor_profile, window_id=pk, **fields)
        return Response(serializers.WindowSerializer(window).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        window_delete(profile=request.user.counselor_profile, window_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SlotListView(APIView):
    """Free, bookable slots of a listed counselor, starting in [from, to)."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "directory"

    @extend_schema(
        parameters=[
            OpenApiParameter("from", dt.datetime),
            OpenApiParameter("to", dt.datetime),
            OpenApiParameter("duration", int, enum=list(SESSION_LENGTHS)),
        ],
        responses=serializers.SlotSerializer(many=True),
    )
    def get(self, request, pk: int):
        query = serializers.SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        profile = counselor_get_listed(counselor_id=pk)
        start = query.validated_data.get("from") or timezone.now()
        end = query.validated_data.get("to") or start + dt.timedelta(days=7)
        if end <= start:
            raise ValidationError({"to": ["to must be after from."]})
        if end - start > dt.timedelta(days=settings.PIANKE_MAX_SLOT_RANGE_DAYS):
            raise ValidationError(
                {"to": [f"Ask for at most {settings.PIANKE_MAX_SLOT_RANGE_DAYS} days."]}
            )
        slots = counselor_free_slots(
            profile=profile,
            start=start,
            end=end,
            duration_minutes=int(query.validated_data["duration"]),
        )
        return Response(
            serializers.SlotSerializer([{"start": s, "end": e} for s, e in slots], many=True).data
        )


class TimeOffListView(generics.GenericAPIView):
    """The counselor's own time off (whole local days in their zone), each with the confirmed
    sessions still booked inside it; POST adds a range and answers with those sessions, which
    stay booked until the counselor cancels them (POST bookings/{id}/cancel/)."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.TimeOffSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimeOff.objects.none()
        return time_off_for_counselor(user=self.request.user)

    def _data(self, ranges, **kwargs):
        profile = CounselorProfile.objects.select_related("user").get(pk=self.request.user.pk)
        sessions = time_off_sessions(counselor=profile, ranges=list(ranges))
        return serializers.TimeOffSerializer(ranges, context={"sessions": sessions}, **kwargs).data

    @extend_schema(responses=serializers.TimeOffSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self._data(page, many=True))

    @extend_schema(
        request=serializers.TimeOffInputSerializer, responses={201: serializers.TimeOffSerializer}
    )
    def post(self, request):
        data = serializers.TimeOffInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time_off = time_off_add(profile=request.user.counselor_profile, **data.validated_data)
        return Response(self._data([time_off], many=True)[0], status=status.HTTP_201_CREATED)


class TimeOffDetailView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        time_off_remove(profile=request.user.counselor_profile, time_off_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
