"""Domain errors and the one place they become HTTP responses.

Services raise Django's ``ValidationError`` (bad input, 400, with the field named),
``Conflict`` (409: the slot is taken, the transition is not allowed), Django's
``ObjectDoesNotExist`` (404: also for objects that exist but are not the caller's)
or ``PermissionDenied`` (403: the role may not do this). Views stay thin; this
handler maps them, so consumers, tasks and commands can call the same services.

A database that cannot be reached (a dropped connection, a failover, a restart: Django's
``OperationalError`` or ``InterfaceError``) is 503 with ``Retry-After``, not 500: the
request's transaction was rolled back with the connection, so nothing was half done, and
trying again shortly is the right answer. Pages get the same from
``core.db_unavailable.DatabaseUnavailableMiddleware``.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# The database errors that mean "not reachable right now", not "this request is wrong".
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Seconds a client should wait before trying again: a dropped connection is replaced at once
# (the broken one is discarded when the request ends), a failover takes a few seconds.
RETRY_AFTER_SECONDS = 5


class Conflict(Exception):
    """The request is valid but the current state does not allow it (HTTP 409)."""

    def __init__(self, message: str, *, code: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.code = code


def validation_error_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            field: [m for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def log_database_unavailable(exc: BaseException, where: str) -> None:
    """Log the error's class only: its text can quote SQL and so the data of the request."""
    logger.error("database unavailable during %s (%s): answered 503", where, type(exc).__name__)


def database_unavailable_message() -> str:
    return _("The service is briefly unavailable. Please try again in a few seconds.")


def exception_handler(exc, context):
    if is_database_unavailable(exc):
        request = context.get("request")
        log_database_unavailable(exc, f"{request.method} {request.path}" if request else "a view")
        response = Response(
            {"detail": database_unavailable_message(), "code": "service_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=validation_error_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
