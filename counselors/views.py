import datetime as dt

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.permissions import IsCounselor, IsStaffMember
from core.sessions import SESSION_LENGTHS
from counselors import serializers
from counselors.filters import CounselorFilter
from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Offering,
    Specialty,
    TimeOff,
    ToolkitItem,
)
from counselors.selectors import (
    counselor_get_listed,
    counselor_list_listed,
    offering_get_for_counselor,
    offerings_for_counselor,
    offerings_list,
    time_off_for_counselor,
    toolkit_item_audio_get_for_user,
    toolkit_item_get_for_counselor,
    toolkit_items_for_counselor,
    toolkit_items_public,
)
from counselors.services import (
    counselor_profile_update,
    counselor_verify,
    credential_add,
    offering_create,
    offering_unpublish,
    offering_update,
    offering_withdraw,
    time_off_add,
    time_off_remove,
    toolkit_item_create,
    toolkit_item_delete,
    toolkit_item_update,
    window_create,
    window_delete,
    window_update,
)
from listening.selectors import counselor_free_slots, counselor_reviews, time_off_sessions


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

    @extend_schema(responses=serializers.CounselorDetailSerializer)
    def get(self, request, pk: int):
        profile = counselor_get_listed(counselor_id=pk)
        context = {
            "offerings": offerings_list(counselor_id=pk),
            "reviews": counselor_reviews(counselor_id=pk),
        }
        return Response(serializers.CounselorDetailSerializer(profile, context=context).data)


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


# --- Offerings and toolkit items ---------------------------------------------------------------

COUNSELOR_QUERY = OpenApiParameter(
    "counselor", int, description="Only this counselor's (their user id)."
)


def _counselor_param(request) -> int | None:
    value = request.query_params.get("counselor")
    if value in (None, ""):
        return None
    try:
        counselor_id = int(value)
    except ValueError:
        raise ValidationError({"counselor": ["A counselor id is a whole number."]}) from None
    if not 1 <= counselor_id <= 2**63 - 1:
        raise ValidationError({"counselor": ["Not a counselor id."]})
    return counselor_id


class OfferingListView(generics.GenericAPIView):
    """Published offerings of listed counselors, each with its toolkit items' titles."""

    permission_classes = [AllowAny]
    serializer_class = serializers.OfferingSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return offerings_list()
        return offerings_list(counselor_id=_counselor_param(self.request))

    @extend_schema(
        parameters=[COUNSELOR_QUERY], responses=serializers.OfferingSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class OfferingUnpublishView(APIView):
    """Staff take a published offering down; the reason is kept and shown to the counselor."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=serializers.UnpublishInputSerializer, responses=serializers.OfferingOwnSerializer
    )
    def post(self, request, pk: int):
        data = serializers.UnpublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offering = offering_unpublish(
            staff=request.user, offering_id=pk, reason=data.validated_data["reason"]
        )
        return Response(serializers.OfferingOwnSerializer(offering).data)


class OwnOfferingListView(generics.GenericAPIView):
    """The counselor's own offerings, every status; POST publishes a new one."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.OfferingOwnSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Offering.objects.none()
        return offerings_for_counselor(counselor=self.request.user.counselor_profile)

    @extend_schema(responses=serializers.OfferingOwnSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=serializers.OfferingInputSerializer,
        responses={201: serializers.OfferingOwnSerializer},
    )
    def post(self, request):
        data = serializers.OfferingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = request.user.counselor_profile
        offering = offering_create(counselor=profile, **data.validated_data)
        offering = offering_get_for_counselor(counselor=profile, offering_id=offering.pk)
        return Response(
            serializers.OfferingOwnSerializer(offering).data, status=status.HTTP_201_CREATED
        )


class OwnOfferingDetailView(APIView):
    """One of the counselor's own offerings (another's: 404); DELETE withdraws it (it stays
    on record for the bookings that name it)."""

    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.OfferingOwnSerializer)
    def get(self, request, pk: int):
        offering = offering_get_for_counselor(
            counselor=request.user.counselor_profile, offering_id=pk
        )
        return Response(serializers.OfferingOwnSerializer(offering).data)

    @extend_schema(
        request=serializers.OfferingUpdateSerializer, responses=serializers.OfferingOwnSerializer
    )
    def patch(self, request, pk: int):
        data = serializers.OfferingUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = request.user.counselor_profile
        offering_update(counselor=profile, offering_id=pk, **data.validated_data)
        offering = offering_get_for_counselor(counselor=profile, offering_id=pk)
        return Response(serializers.OfferingOwnSerializer(offering).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        offering_withdraw(counselor=request.user.counselor_profile, offering_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ToolkitListView(generics.GenericAPIView):
    """The starter library and, with `counselor`, that counselor's own items their published
    offerings list."""

    permission_classes = [AllowAny]
    serializer_class = serializers.ToolkitItemSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ToolkitItem.objects.none()
        return toolkit_items_public(counselor_id=_counselor_param(self.request))

    @extend_schema(
        parameters=[COUNSELOR_QUERY], responses=serializers.ToolkitItemSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ToolkitItemAudioView(APIView):
    """A guided audio's file: the library's and those published offerings list are public; a
    counselor's other items only to that counselor (anyone else: 404)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "audio/*"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        item = toolkit_item_audio_get_for_user(user=request.user, item_id=pk)
        response = FileResponse(item.audio.open("rb"), content_type=item.audio_content_type)
        response["Cache-Control"] = "private, max-age=3600" if item.owner_id else "max-age=86400"
        return response


TOOLKIT_INPUT_MEDIA = ("application/json", "multipart/form-data")


class OwnToolkitItemListView(generics.GenericAPIView):
    """The items the counselor may use (the library's, then their own); POST creates one of
    their own (multipart for a guided audio's file)."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.ToolkitItemSerializer
    filterset_class = None
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ToolkitItem.objects.none()
        return toolkit_items_for_counselor(counselor=self.request.user.counselor_profile)

    @extend_schema(responses=serializers.ToolkitItemSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request={m: serializers.ToolkitItemInputSerializer for m in TOOLKIT_INPUT_MEDIA},
        responses={201: serializers.ToolkitItemSerializer},
    )
    def post(self, request):
        data = serializers.ToolkitItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = toolkit_item_create(counselor=request.user.counselor_profile, **data.validated_data)
        return Response(
            serializers.ToolkitItemSerializer(item).data, status=status.HTTP_201_CREATED
        )


class OwnToolkitItemDetailView(APIView):
    """A library item or one of the counselor's own (another's: 404). Library items can be
    read, not changed (403)."""

    permission_classes = [IsCounselor]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=serializers.ToolkitItemSerializer)
    def get(self, request, pk: int):
        item = toolkit_item_get_for_counselor(counselor=request.user.counselor_profile, item_id=pk)
        return Response(serializers.ToolkitItemSerializer(item).data)

    @extend_schema(
        request={m: serializers.ToolkitItemUpdateSerializer for m in TOOLKIT_INPUT_MEDIA},
        responses=serializers.ToolkitItemSerializer,
    )
    def patch(self, request, pk: int):
        data = serializers.ToolkitItemUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = toolkit_item_update(
            counselor=request.user.counselor_profile, item_id=pk, **data.validated_data
        )
        return Response(serializers.ToolkitItemSerializer(item).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        toolkit_item_delete(counselor=request.user.counselor_profile, item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
