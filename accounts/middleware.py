"""WebSocket authentication by `Authorization: Token <key>` on the handshake, for clients
that are not browsers (browsers send the session cookie, handled by AuthMiddlewareStack)."""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.startswith("Token "):
            user = await _user_for_token(auth[len("Token ") :].strip())
            if user is not None:
                scope = {**scope, "user": user}
        return await super().__call__(scope, receive, send)


class TokenClientOriginValidator:
    """Browsers always send Origin, and for them the allowed-hosts check is what stops another
    site from opening a socket with the user's cookie. A client that authenticates with a
    token header is not a browser riding on cookies, and often sends no Origin at all: let it
    through without one. Everything else goes through `AllowedHostsOriginValidator`."""

    def __init__(self, application):
        from channels.security.websocket import AllowedHostsOriginValidator

        self.application = application
        self.validated = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        if b"origin" not in headers and headers.get(b"authorization", b"").startswith(b"Token "):
            return await self.application(scope, receive, send)
        return await self.validated(scope, receive, send)
