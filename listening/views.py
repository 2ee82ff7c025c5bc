import uuid

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient
from ethics.services import crisis_hotlines_for
from listening import serializers
from listening.calendar import booking_icalendar
from listening.filters import BookingFilter
from listening.models import Booking, SessionMessage
from listening.selectors import booking_get_for_participant, booking_list_for_user, message_frame
from listening.services import (
    booking_cancel,
    booking_create,
    booking_reschedule,
    feedback_submit,
    message_audio_read,
    message_post,
)


class BookingListView(generics.ListAPIView):
    """The caller's own bookings (as client or counselor), soonest first; POST books a slot (clients)."""

    serializer_class = serializers.BookingSerializer
    filterset_class = BookingFilter

    def get_permissions(self):
        return [IsClient()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Booking.objects.none()
        return booking_list_for_user(user=self.request.user).order_by("start", "pk")

    @extend_schema(
        request=serializers.BookingInputSerializer, responses={201: serializers.BookingSerializer}
    )
    def post(self, request):
        data = serializers.BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        booking = booking_create(
            client=request.user,
            counselor_id=fields.pop("counselor"),
            duration_minutes=int(fields.pop("duration_minutes")),
            **fields,
        )
        booking = booking_get_for_participant(user=request.user, booking_id=booking.pk)
        return Response(serializers.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


class BookingDetailView(APIView):
    @extend_schema(responses=serializers.BookingSerializer)
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking).data)


class BookingCancelView(APIView):
    @extend_schema(
        request=serializers.CancelInputSerializer, responses=serializers.BookingSerializer
    )
    def post(self, request, pk: int):
        data = serializers.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_cancel(booking_id=pk, user=request.user, **data.validated_data)
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking).data)


class BookingRescheduleView(APIView):
    """Move a booking to another free slot of the same counselor (the client, or the
    counselor with a reason), until the counselor's cut-off."""

    @extend_schema(
        request=serializers.RescheduleInputSerializer, responses=serializers.BookingSerializer
    )
    def post(self, request, pk: int):
        data = serializers.RescheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_reschedule(booking_id=pk, user=request.user, **data.validated_data)
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking).data)


class BookingCalendarView(APIView):
    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        response = HttpResponse(
            booking_icalendar(booking=booking, viewer=request.user),
            content_type="text/calendar; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="pianke-session-{booking.pk}.ics"'
        return response


class MessageListView(generics.GenericAPIView):
    """A booking's messages, oldest first (live chat and async); POST sends an async text or
    voice note (webm/ogg/mp4/mpeg audio, at most 5 MB and 3 minutes)."""

    serializer_class = serializers.MessageSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SessionMessage.objects.none()
        booking = booking_get_for_participant(user=self.request.user, booking_id=self.kwargs["pk"])
        return SessionMessage.objects.filter(booking=booking).order_by("seq")

    @extend_schema(responses=serializers.MessageSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([message_frame(m) for m in page])

    @extend_schema(
        request={
            "application/json": serializers.MessageInputSerializer,
            "multipart/form-data": serializers.MessageInputSerializer,
        },
        responses={201: serializers.MessageSerializer, 200: serializers.MessageSerializer},
    )
    def post(self, request, pk: int):
        booking_get_for_participant(user=request.user, booking_id=pk)  # 404 unless theirs
        data = serializers.MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = message_post(
            booking_id=pk,
            sender=request.user,
            uid=data.validated_data.get("id") or uuid.uuid4(),
            text=data.validated_data["text"],
            audio=data.validated_data.get("audio"),
            live=False,
        )
        body = message_frame(message)
        if (
            getattr(message, "crisis_alert", None) is not None
            and request.user.id == message.booking.client_id
        ):
            body["crisis_resources"] = {"hotlines": crisis_hotlines_for(user=request.user)}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MessageAudioView(APIView):
    """A voice note's audio, decrypted for one of the booking's two participants."""

    @extend_schema(responses={(200, "audio/*"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, seq: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        message = SessionMessage.objects.get(
            booking=booking, seq=seq, kind=SessionMessage.Kind.VOICE
        )
        response = HttpResponse(
            message_audio_read(message=message), content_type=message.audio_content_type
        )
        response["Cache-Control"] = "private, no-store"
        return response


class FeedbackView(APIView):
    """The client's feedback on a session, once, after it."""

    permission_classes = [IsClient]

    @extend_schema(
        request=serializers.FeedbackSerializer, responses={201: serializers.FeedbackSerializer}
    )
    def post(self, request, pk: int):
        data = serializers.FeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_submit(client=request.user, booking_id=pk, **data.validated_data)
        return Response(
            serializers.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED
        )
