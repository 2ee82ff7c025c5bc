"""The bare-DRF floor: `POST /api/v1/bookings/` with the booking API's body, through the same
middleware, token authentication and JSON parsing, validated by a plain serializer, and one
indexed query (is the slot taken?), answered 201 or 409 with nothing written. What any DRF
endpoint on this stack costs; the real booking's ratio to it is the price of its own rules."""

from django.http import JsonResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from listening.models import Booking


class Body(serializers.Serializer):
    counselor = serializers.IntegerField()
    start = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    mode = serializers.CharField()
    topic = serializers.CharField(required=False, allow_blank=True)


class Floor(APIView):
    def get(self, request):
        return Response({"results": []})

    def post(self, request):
        body = Body(data=request.data)
        body.is_valid(raise_exception=True)
        taken = Booking.objects.filter(
            counselor_id=body.validated_data["counselor"], start=body.validated_data["start"]
        ).exists()
        if taken:
            return Response({"code": "slot_taken"}, status=409)
        return Response({"id": None, **body.data}, status=201)


urlpatterns = [
    path("api/v1/bookings/", Floor.as_view()),
    path("healthz/", lambda request: JsonResponse({"ok": True})),
]
