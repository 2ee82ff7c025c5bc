from django.db.models import Case, IntegerField, Value, When
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient, IsCounselor
from matching import serializers
from matching.models import MatchRequest, Offer
from matching.selectors import (
    match_request_get_for_client,
    offer_frame,
    offers_for_counselor,
    presence_of,
)
from matching.services import (
    match_request_cancel,
    match_request_create,
    offer_accept,
    offer_decline,
    presence_set,
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

    @extend_schema(responses=serializers.MatchRequestSerializer)
    def get(self, request, pk: int):
        match = match_request_get_for_client(user=request.user, request_id=pk)
        return Response(serializers.MatchRequestSerializer(match).data)


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
        return self.get_paginated_response([offer_frame(o) for o in page])


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
