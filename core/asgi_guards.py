"""ASGI guards in front of Django and Channels (config/asgi.py), for input no view should
have to see:

- `BodySizeLimit`: an HTTP request body over its limit is refused with 413 before Django
  reads it: at once when Content-Length says so, else as soon as the streamed bytes pass the
  limit (a chunked upload is never read whole). Django's ASGI handler would otherwise spool
  the whole body to a temporary file before any view could look at its size.
- `WebSocketFrameGuard`: a frame over 64 KB closes the socket cleanly (1009, "message too
  big"); a binary frame is answered with an `error` frame (`binary_not_supported`) and goes
  no further (every socket speaks JSON text)."""

from __future__ import annotations

import json
import re

from django.conf import settings

TOO_LARGE = 413
WS_MAX_FRAME_BYTES = 64 * 1024
WS_CLOSE_TOO_BIG = 1009
# Multipart framing around the file (boundaries, part headers, the other fields).
MULTIPART_OVERHEAD = 64 * 1024


class BodyTooLarge(Exception):
    pass


def body_limits() -> list[tuple[re.Pattern, int]]:
    """(path pattern, byte limit): the voice-note uploads take a voice note; the rest, no
    more than Django would hold in memory for a form (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    voice = settings.VOICE_NOTE_MAX_BYTES + MULTIPART_OVERHEAD
    return [
        (re.compile(r"^/api/v1/bookings/\d+/messages/$"), voice),
        (re.compile(r"^/sessions/\d+/messages/$"), voice),
    ]


class BodySizeLimit:
    def __init__(self, app):
        self.app = app
        self.limits = body_limits()
        self.default = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440

    def limit_for(self, path: str) -> int:
        return next((limit for pattern, limit in self.limits if pattern.match(path)), self.default)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""))
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > limit
            except ValueError:
                too_large = False  # Django answers a malformed header itself
            if too_large:
                return await _refuse(send, limit)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send, limit: int) -> None:
    megabytes = round(limit / (1024 * 1024), 1)
    body = json.dumps(
        {"detail": f"The request is larger than {megabytes} MB.", "code": "too_large"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WebSocketFrameGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)

        async def guarded_receive():
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return message
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode()) if text is not None else len(data or b"")
                if size > WS_MAX_FRAME_BYTES:
                    await send({"type": "websocket.close", "code": WS_CLOSE_TOO_BIG})
                    # The consumer sees the socket go, as if the client had left.
                    return {"type": "websocket.disconnect", "code": WS_CLOSE_TOO_BIG}
                if text is None:
                    await send(
                        {
                            "type": "websocket.send",
                            "text": json.dumps(
                                {
                                    "type": "error",
                                    "code": "binary_not_supported",
                                    "detail": "Send JSON text frames.",
                                }
                            ),
                        }
                    )
                    continue
                return message

        return await self.app(scope, guarded_receive, send)
