"""The page layer's shared helpers: who may open a page, and a service's errors on a form.

Page views stay thin, as API views do: a form checks the shape of the input, a service does
the work, and its domain errors are shown through these helpers, the same way on every page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


def role_required(test: Callable) -> Callable:
    """Signed in (else the login page) and passing `test(user)` (else 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


client_required = role_required(lambda user: user.is_client)
counselor_required = role_required(lambda user: user.is_counselor)
staff_member_required = role_required(lambda user: user.is_staff_member)
responder_required = role_required(lambda user: user.is_crisis_responder)


def add_service_errors(
    form: forms.Form, exc: ValidationError, *, field_map: dict | None = None
) -> None:
    """Show a service's ValidationError on the form: each error on the field of that name
    (renamed through `field_map`; None for the form as a whole), errors about fields the form
    does not have on the form as a whole."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        field = field_map.get(name, name)
        messages = [m for e in errors for m in e.messages]
        form.add_error(field if field in form.fields else None, messages)


def intake_redirect(request):
    """To the intake, and back here afterwards (a service answered Conflict `intake_required`)."""
    messages.info(request, _("Before your first session, please answer a short intake."))
    return redirect(f"{reverse('intake-page')}?{urlencode({'next': request.get_full_path()})}")


TEL_CHARS = set("0123456789+ -")


def with_contact_links(hotline: dict) -> dict:
    """Phone numbers become tap-to-call links, web addresses links; "120 / 110" stays text."""
    contact = hotline.get("contact") or ""
    tel = contact.replace(" ", "").replace("-", "") if contact and set(contact) <= TEL_CHARS else ""
    url = contact if contact.startswith(("https://", "http://")) else ""
    return {**hotline, "tel": tel, "url": url}
