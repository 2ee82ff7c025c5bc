"""ASGI entry point: `config.asgi:application` (HTTP through Django, WebSockets through Channels)."""

import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise: a deployment that forgets the variable must not run in DEBUG.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from accounts.middleware import TokenAuthMiddleware, TokenClientOriginValidator
from config.routing import websocket_urlpatterns

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TokenClientOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
