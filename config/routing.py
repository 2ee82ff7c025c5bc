"""WebSocket routes, one thin consumer per route (the session room arrives with the live-session work)."""

websocket_urlpatterns: list = []
