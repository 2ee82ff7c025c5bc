"""A page whose database went away answers 503 with `Retry-After`, not 500.

The API answers the same from its exception handler (core/exceptions.py). Pages need this
middleware, and it has two ways in, because a database error can happen in two places:

* in the view (a booking waiting on a row lock when its connection is dropped):
  `process_exception` sees it;
* in a middleware below this one (the session or the signed-in user loaded on the first query
  of the request): Django turns that into a 500 response inside that middleware, before it
  gets here. `got_request_exception` is sent while the error is being handled, so a receiver
  marks the request, and `__call__` replaces that 500 with the 503.

The answer is a small page of its own, built without the database: the site's templates run
context processors that query it (unread notices, surges), and they would fail again.

Nothing was half done: the request's transaction was rolled back with its connection, and the
broken connection is discarded when the request ends (CONN_MAX_AGE = 0; the psycopg pool drops
a connection returned in a bad state), so the next request gets a working one without a restart.
"""

from __future__ import annotations

import sys

from django.core.signals import got_request_exception
from django.http import HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.exceptions import (
    RETRY_AFTER_SECONDS,
    database_unavailable_message,
    is_database_unavailable,
    log_database_unavailable,
)

# Set on a request whose handling raised a database-unavailable error somewhere below.
_MARK = "_pianke_database_unavailable"


def database_unavailable_response(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        # The API's own handler answers errors in its views; this is for the middleware below
        # it (a session cookie's lookup), in the API's shape.
        response = JsonResponse(
            {"detail": database_unavailable_message(), "code": "service_unavailable"}, status=503
        )
    else:
        response = HttpResponse(_page(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Not an answer anyone should keep: a proxy or the browser must ask again.
    response["Cache-Control"] = "no-store"
    return response


def _page() -> str:
    return format_html(
        '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{}</title></head><body><main><h1>{}</h1><p>{}</p>"
        '<p><a href="">{}</a></p></main></body></html>',
        get_language() or "en",
        _("Briefly unavailable"),
        _("Briefly unavailable"),
        database_unavailable_message(),
        _("Try again"),
    )


def _mark_request(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_database_unavailable(exc):
        setattr(request, _MARK, exc)


# A receiver at module level, connected once, weakly referencing nothing that can go away.
got_request_exception.connect(_mark_request, dispatch_uid="core.db_unavailable.mark_request")


class DatabaseUnavailableMiddleware:
    """Place it high in MIDDLEWARE (above the session and authentication middleware, whose
    queries it must cover; below the security-header middleware, so the 503 gets them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code == 500:
            log_database_unavailable(exc, f"{request.method} {request.path}")
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        log_database_unavailable(exception, f"{request.method} {request.path}")
        return database_unavailable_response(request)
