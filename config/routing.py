"""WebSocket routes, one thin consumer per route."""

from django.urls import path

from ethics.consumers import StaffConsumer
from groups.consumers import GroupConsumer
from listening.consumers import SessionConsumer
from matching.consumers import CounselorConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:booking_id>/", SessionConsumer.as_asgi()),
    path("ws/groups/<int:group_id>/", GroupConsumer.as_asgi()),
    path("ws/staff/", StaffConsumer.as_asgi()),
    path("ws/counselor/", CounselorConsumer.as_asgi()),
]
