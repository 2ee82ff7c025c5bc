from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient, IsCounselor, IsStaffMember
from counselors.models import CounselorProfile
from matching import serializers
from matching.models import MatchRequest, Offer, Surge
from matching.selectors import (
    continuity_on_duty,
    match_request_get_for_client,
    offer_frame,
    offer_frames,
    offers_for_counselor,
    presence_of,
    surge_get_for_staff,
    surges_extras,
    surges_for_staff,
)
from matching.services import (
    match_request_cancel,
    match_request_create,
    offer_accept,
    offer_decline,
    presence_set,
    reserve_pool_set,
    surge_declare,
    surge_end,
    surge_update,
)


class MatchRequestListView(generics.ListAPIView):
    """The client's own match requests, newest first; POST asks for a counselor."""

    permission_classes = [IsClient]
    serializer_class = serializers.MatchRequestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MatchRequest.objects.none()
        return MatchRequest.objects.filter(client=self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        request=serializers.MatchRequestInputSerializer,
        responses={202: serializers.MatchRequestSerializer},
    )
    def post(self, request):
        data = serializers.MatchRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        when = fields.pop("when")
        match = match_request_create(
            client=request.user,
            duration_minutes=int(fields.pop("duration_minutes")),
            **when,
            **fields,
        )
        return Response(
            serializers.MatchRequestSerializer(match).data, status=status.HTTP_202_ACCEPTED
        )


class MatchRequestDetailView(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=serializers.MatchRequestDetailSerializer)
    def get(self, request, pk: int):
        match = match_request_get_for_client(user=request.user, request_id=pk)
        return Response(serializers.MatchRequestDetailSerializer(match).data)


class MatchRequestCancelView(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.MatchRequestSerializer)
    def post(self, request, pk: int):
        match = match_request_cancel(client=request.user, request_id=pk)
        return Response(serializers.MatchRequestSerializer(match).data)


class PresenceView(APIView):
    """Talk-now duty. POST `{online: true}` goes on duty and renews it: duty lapses 60 seconds
    after the last renewal (a heartbeat on `/ws/counselor/` renews it too)."""

    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.PresenceSerializer)
    def get(self, request):
        return Response(
            serializers.PresenceSerializer(presence_of(counselor_id=request.user.pk)).data
        )

    @extend_schema(
        request=serializers.PresenceInputSerializer, responses=serializers.PresenceSerializer
    )
    def post(self, request):
        data = serializers.PresenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        presence_set(counselor=request.user, online=data.validated_data["online"])
        return Response(
            serializers.PresenceSerializer(presence_of(counselor_id=request.user.pk)).data
        )


class OfferListView(generics.ListAPIView):
    """The counselor's own offers: pending first, then newest. `?status=pending` to filter."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.OfferSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Offer.objects.none()
        qs = offers_for_counselor(user=self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted:
            qs = qs.filter(status=wanted)
        first = Case(
            When(status=Offer.Status.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return qs.order_by(first, "-created_at", "-pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(offer_frames(page))


class OfferAcceptView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(request=None, responses=serializers.OfferSerializer)
    def post(self, request, pk: int):
        return Response(offer_frame(offer_accept(counselor=request.user, offer_id=pk)))


class OfferDeclineView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(request=None, responses=serializers.OfferSerializer)
    def post(self, request, pk: int):
        return Response(offer_frame(offer_decline(counselor=request.user, offer_id=pk)))


class ContinuityView(APIView):
    """Counselors the client has met (a past booking) or marked as preferred who are on
    talk-now duty now, optionally only those offering `language` and `mode`: for "your
    previous counselor Lin is on duty now" before asking."""

    permission_classes = [IsClient]

    @extend_schema(
        parameters=[serializers.ContinuityQuerySerializer],
        responses=serializers.ContinuityListSerializer,
    )
    def get(self, request):
        query = serializers.ContinuityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = continuity_on_duty(client=request.user, **query.validated_data)
        return Response(serializers.ContinuityListSerializer({"on_duty": rows}).data)


class ReservePoolView(APIView):
    """The counselor's opt-in to the reserve pool that surges call up."""

    permission_classes = [IsCounselor]

    @extend_schema(responses=serializers.ReservePoolSerializer)
    def get(self, request):
        profile = CounselorProfile.objects.get(pk=request.user.pk)
        return Response({"reserve_pool": profile.reserve_pool})

    @extend_schema(
        request=serializers.ReservePoolSerializer, responses=serializers.ReservePoolSerializer
    )
    def put(self, request):
        data = serializers.ReservePoolSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = reserve_pool_set(counselor=request.user, on=data.validated_data["reserve_pool"])
        return Response({"reserve_pool": profile.reserve_pool})


class SurgeListView(generics.ListAPIView):
    """Staff: surges, newest first, each with its live figures (k-anonymous); POST declares one."""

    permission_classes = [IsStaffMember]
    serializer_class = serializers.SurgeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Surge.objects.none()
        return surges_for_staff()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # The page's figures, call counts and events in a fixed number of queries.
        context = {**self.get_serializer_context(), "surge_extras": surges_extras(page)}
        return self.get_paginated_response(
            serializers.SurgeSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=serializers.SurgeInputSerializer, responses={201: serializers.SurgeSerializer}
    )
    def post(self, request):
        data = serializers.SurgeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        surge = surge_declare(actor=request.user, **data.validated_data)
        surge = surge_get_for_staff(surge_id=surge.pk)
        return Response(serializers.SurgeSerializer(surge).data, status=status.HTTP_201_CREATED)


class SurgeDetailView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=serializers.SurgeSerializer)
    def get(self, request, pk: int):
        return Response(serializers.SurgeSerializer(surge_get_for_staff(surge_id=pk)).data)

    @extend_schema(request=serializers.SurgeUpdateSerializer, responses=serializers.SurgeSerializer)
    def patch(self, request, pk: int):
        surge_get_for_staff(surge_id=pk)  # 404 before validating
        data = serializers.SurgeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        surge_update(actor=request.user, surge_id=pk, **data.validated_data)
        return Response(serializers.SurgeSerializer(surge_get_for_staff(surge_id=pk)).data)


class SurgeEndView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=None, responses=serializers.SurgeSerializer)
    def post(self, request, pk: int):
        surge_get_for_staff(surge_id=pk)
        surge_end(actor=request.user, surge_id=pk)
        return Response(serializers.SurgeSerializer(surge_get_for_staff(surge_id=pk)).data)
