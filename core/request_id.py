"""The request id: taken from the incoming `X-Request-ID` header when it is a plain short
token (a TLS proxy or load balancer in front usually sets one, so its access log and ours
share it), else generated; returned in the response's `X-Request-ID`, put on every log record
of the request (core.logging) and carried into every Celery task enqueued during it
(config/celery.py), so the worker's lines for that task carry it too."""

from __future__ import annotations

import uuid

from core.logging import request_id_valid, request_id_var

HEADER = "X-Request-ID"


def request_id_new() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Near the top of MIDDLEWARE, so that what the others log carries the id. A header that
    is missing, too long or has characters outside [A-Za-z0-9-] is replaced, not trusted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER)
        request_id = incoming if request_id_valid(incoming) else request_id_new()
        request.request_id = request_id
        # Reset afterwards: a WSGI worker thread serves many requests one after another.
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response
