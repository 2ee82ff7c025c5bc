from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsClient
from listening import serializers
from listening.calendar import booking_icalendar
from listening.filters import BookingFilter
from listening.models import Booking
from listening.selectors import booking_get_for_participant, booking_list_for_user
from listening.services import booking_cancel, booking_create


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

    @extend_schema(request=serializers.BookingInputSerializer, responses={201: serializers.BookingSerializer})
    def post(self, request):
        data = serializers.BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        booking = booking_create(client=request.user, counselor_id=fields.pop("counselor"),
                                 duration_minutes=int(fields.pop("duration_minutes")), **fields)
        booking = booking_get_for_participant(user=request.user, booking_id=booking.pk)
        return Response(serializers.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


class BookingDetailView(APIView):
    @extend_schema(responses=serializers.BookingSerializer)
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking).data)


class BookingCancelView(APIView):
    @extend_schema(request=serializers.CancelInputSerializer, responses=serializers.BookingSerializer)
    def post(self, request, pk: int):
        data = serializers.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_cancel(booking_id=pk, user=request.user, **data.validated_data)
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking).data)


class BookingCalendarView(APIView):
    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        response = HttpResponse(booking_icalendar(booking=booking, viewer=request.user),
                                content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="pianke-session-{booking.pk}.ics"'
        return response
