"""ASGI entry point: `config.asgi:application` (HTTP through Django, WebSockets through Channels)."""

import gc
import os

from django.core.asgi import get_asgi_application
from django.urls import get_resolver

# Production unless told otherwise: a deployment that forgets the variable must not run in DEBUG.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from accounts.middleware import TokenAuthMiddleware, TokenClientOriginValidator
from config.routing import websocket_urlpatterns
from core.asgi_guards import BodySizeLimit, WebSocketFrameGuard
from ethics.detector import warm_up as crisis_screen_warm_up

# Load the crisis screen's lexicon, segmenter and learned model now, before the server accepts
# a connection (uvicorn and daphne import this module before they bind). Loaded lazily they
# cost about 1.5 s of CPU on the first chat line, holding the GIL while every room of the
# process waited: `bench chat_relay` at 50 sessions had its whole p99 (0.9 s) in the first 5 s.
crisis_screen_warm_up()
# Import every view now too (Django does it on the first request), then move all of it, which
# lives as long as the process, out of the collector's generations: a full collection walked
# it, 80-110 ms paid by whichever request triggered it (the directory without a specialty: max
# 151 ms); frozen, a full collection takes about 5 ms (issue 17's profile, docs/benchmarks.md).
get_resolver().url_patterns  # noqa: B018 (the property imports config.urls and every view)
gc.freeze()

application = ProtocolTypeRouter(
    {
        # A body over its limit is refused before Django reads (and spools) it whole.
        "http": BodySizeLimit(django_asgi_app),
        # Frames over 64 KB close the socket (1009); binary frames get an error frame.
        "websocket": TokenClientOriginValidator(
            WebSocketFrameGuard(
                AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
