"""API of oversight: referrals, complaints, concern reports and the staff review of flags."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient, IsCounselor, IsStaffMember
from ethics.models import EthicsFlag, Referral
from oversight import serializers, services


class ReferralListCreateView(generics.ListAPIView):
    """GET: your referrals (a counselor's made, a client's received). POST: a counselor refers
    the client of one of their own sessions to a directory resource."""

    serializer_class = serializers.ReferralSerializer

    def get_permissions(self):
        return [IsCounselor()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return services.referral_list_for_user(user=self.request.user)

    @extend_schema(
        request=serializers.ReferralInputSerializer, responses={201: serializers.ReferralSerializer}
    )
    def post(self, request):
        data = serializers.ReferralInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        referral = services.referral_create(
            counselor=request.user,
            booking_id=v["booking"],
            resource_id=v["resource"],
            reason=v["reason"],
            urgency=v["urgency"],
        )
        return Response(
            serializers.ReferralSerializer(referral).data, status=status.HTTP_201_CREATED
        )


class ReferralAcceptView(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.ReferralSerializer)
    def post(self, request, pk: int):
        referral = services.referral_accept(client=request.user, referral_id=pk)
        return Response(serializers.ReferralSerializer(referral).data)


class ReferralDeclineView(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.ReferralSerializer)
    def post(self, request, pk: int):
        referral = services.referral_decline(client=request.user, referral_id=pk)
        return Response(serializers.ReferralSerializer(referral).data)


class ComplaintCreateView(APIView):
    """A client complains about one of their own sessions (staff review it as a flag)."""

    permission_classes = [IsClient]

    @extend_schema(
        request=serializers.ComplaintInputSerializer,
        responses={201: serializers.ComplaintSerializer},
    )
    def post(self, request):
        data = serializers.ComplaintInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = services.complaint_create(
            client=request.user,
            booking_id=data.validated_data["booking"],
            text=data.validated_data["text"],
        )
        return Response(
            serializers.ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED
        )


class FlagFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=EthicsFlag.Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=EthicsFlag.Status.choices)

    class Meta:
        model = EthicsFlag
        fields = ["kind", "status"]


class FlagListView(generics.ListAPIView):
    """The review queue (staff): newest first; `?kind=complaint&status=open` to filter."""

    permission_classes = [IsStaffMember]
    serializer_class = serializers.FlagSerializer
    filterset_class = FlagFilter

    def get_queryset(self):
        return services.flag_queue()


class FlagDetailView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=serializers.FlagDetailSerializer)
    def get(self, request, pk: int):
        flag = services.flag_get(user=request.user, flag_id=pk)
        return Response(serializers.FlagDetailSerializer(flag).data)


class FlagAssignView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=None, responses=serializers.FlagSerializer)
    def post(self, request, pk: int):
        flag = services.flag_assign(user=request.user, flag_id=pk)
        return Response(serializers.FlagSerializer(flag).data)


class FlagResolveView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        request=serializers.FlagResolveInputSerializer, responses=serializers.FlagSerializer
    )
    def post(self, request, pk: int):
        data = serializers.FlagResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.flag_resolve(user=request.user, flag_id=pk, **data.validated_data)
        return Response(serializers.FlagSerializer(flag).data)


class FlagNoteCreateView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        request=serializers.FlagNoteInputSerializer, responses={201: serializers.FlagNoteSerializer}
    )
    def post(self, request, pk: int):
        data = serializers.FlagNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.flag_note_add(
            user=request.user, flag_id=pk, text=data.validated_data["text"]
        )
        return Response(serializers.FlagNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class FlagContentView(APIView):
    """The flagged session's messages, oldest first. Every read is written to the audit log."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=serializers.FlagContentSerializer)
    def get(self, request, pk: int):
        flag, booking, messages = services.flag_content_read(user=request.user, flag_id=pk)
        return Response(
            serializers.FlagContentSerializer(
                {
                    "flag": flag.pk,
                    "booking": booking.pk,
                    "content_purged_at": booking.content_purged_at,
                    "ethics_hold": booking.ethics_hold,
                    "messages": messages,
                }
            ).data
        )


class FlagMineView(generics.ListAPIView):
    """A counselor's resolved flags: kind, when and the outcome only."""

    permission_classes = [IsCounselor]
    serializer_class = serializers.FlagOutcomeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EthicsFlag.objects.none()
        return services.flag_list_for_counselor(user=self.request.user)


class ConcernReportView(APIView):
    """Either participant reports a dual relationship or a boundary problem on their booking."""

    @extend_schema(request=serializers.ConcernReportInputSerializer, responses={201: None})
    def post(self, request):
        data = serializers.ConcernReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.concern_report(
            user=request.user,
            booking_id=data.validated_data["booking"],
            kind=data.validated_data["kind"],
            text=data.validated_data["text"],
        )
        return Response(
            {"id": flag.pk, "kind": flag.kind, "status": flag.status},
            status=status.HTTP_201_CREATED,
        )
