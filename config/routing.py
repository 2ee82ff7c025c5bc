"""WebSocket routes, one thin consumer per route."""

from django.urls import path

from listening.consumers import SessionConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:booking_id>/", SessionConsumer.as_asgi()),
]
