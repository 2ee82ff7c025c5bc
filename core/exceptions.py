"""Domain errors and the one place they become HTTP responses.

Services raise Django's ``ValidationError`` (bad input, 400, with the field named),
``Conflict`` (409: the slot is taken, the transition is not allowed), Django's
``ObjectDoesNotExist`` (404: also for objects that exist but are not the caller's)
or ``PermissionDenied`` (403: the role may not do this). Views stay thin; this
handler maps them, so consumers, tasks and commands can call the same services.
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=validation_error_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
