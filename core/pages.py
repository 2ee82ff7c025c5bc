"""The page layer's shared helpers: who may open a page, a service's errors on a form, and
the 409 page for a Conflict no form can show.

Page views stay thin, as API views do: a form checks the shape of the input, a service does
the work, and its domain errors are shown through these helpers, the same way on every page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.exceptions import Conflict


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


def with_next(url: str, next_url: str) -> str:
    """`url` with `?next=` the page to come back to (none when `next_url` is empty)."""
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def intake_redirect(request):
    """To the intake, and back here afterwards (a service answered Conflict `intake_required`)."""
    messages.info(request, _("Before your first session, please answer a short intake."))
    return redirect(with_next(reverse("accounts:intake"), request.get_full_path()))


def consent_redirect(request):
    """To the consent, and back here afterwards (Conflict `consent_required`)."""
    return redirect(with_next(reverse("accounts:consent"), request.get_full_path()))


# A client without a standing consent or a current intake is sent there, then back here.
GATE_REDIRECTS = {"consent_required": consent_redirect, "intake_required": intake_redirect}


def slots_by_local_day(slots) -> list[tuple]:
    """Free (start, end) slots grouped by their day in the viewer's zone, days in order."""
    days: dict = {}
    for start, end in slots:
        days.setdefault(timezone.localtime(start).date(), []).append((start, end))
    return sorted(days.items())


TEL_CHARS = set("0123456789+ -")


def with_contact_links(hotline: dict) -> dict:
    """Phone numbers become tap-to-call links, web addresses links; "120 / 110" stays text."""
    contact = hotline.get("contact") or ""
    tel = contact.replace(" ", "").replace("-", "") if contact and set(contact) <= TEL_CHARS else ""
    url = contact if contact.startswith(("https://", "http://")) else ""
    return {**hotline, "tel": tel, "url": url}


@dataclass
class Submission:
    """What became of a form's service call: `ok` with the service's `result`, or refused,
    with the errors on the form and the `status` to render it with (400 or 409); a Conflict's
    `code` too, for answers that carry it (a script's JSON)."""

    ok: bool
    result: Any = None
    status: int = 200
    code: str = ""


def form_submit(form: forms.Form, service: Callable, /, *, field_map=None, **kwargs) -> Submission:
    """Call `service(**kwargs)` for a bound, valid form. A ValidationError goes onto the form
    (fields onto their fields, see add_service_errors): 400. A Conflict goes onto the form as a
    whole: 409. A consent or intake Conflict (GATE_REDIRECTS) is raised on, so the conflict
    page sends the client there. Other errors (DoesNotExist, PermissionDenied) propagate as usual."""
    try:
        return Submission(ok=True, result=service(**kwargs))
    except ValidationError as exc:
        add_service_errors(form, exc, field_map=field_map)
        return Submission(ok=False, status=400)
    except Conflict as exc:
        if exc.code in GATE_REDIRECTS:
            raise
        form.add_error(None, exc.message)
        return Submission(ok=False, status=409, code=exc.code)


class ConflictPageMiddleware:
    """A Conflict a page view did not handle (an action button with no form to show it on)
    becomes the 409 page: what happened, and a way back. A consent or intake Conflict sends
    the client there instead (GATE_REDIRECTS). The API never gets here: DRF's handler answers it first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Conflict):
            return None
        gate = GATE_REDIRECTS.get(exception.code)
        if gate is not None:
            return gate(request)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        return render(
            request, "conflict.html", {"message": exception.message, "back": back}, status=409
        )
