"""Account pages: help (crisis lines), sign-up and sign-in, the consent and intake, the
account page (time zone, language, reminders and notices, data export, deletion), the notices
and the one-click unsubscribe of reminder e-mails. Thin: forms check the input,
accounts.services does the work."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from rest_framework.throttling import ScopedRateThrottle

from accounts import forms
from accounts.models import Notice, User
from accounts.selectors import notice_rendered, notices_of, notification_preference_for
from accounts.services import (
    notice_mark_read,
    notices_mark_all_read,
    notification_preference_update,
    reminder_emails_unsubscribe,
    unsubscribe_token_user,
    user_update,
)
from accounts.timezone_middleware import viewer_zone_name
from core.pages import client_required, form_submit, with_contact_links, with_next
from counselors.selectors import specialty_list
from intake.selectors import CURRENT_VERSION, WITHDRAWN_MESSAGE, consent_text, pick_language
from intake.services import (
    consent_agree,
    consent_current_for,
    consent_withdraw,
    intake_current_for,
    intake_outcome,
    intake_submit,
)
from workflows.services import user_data_export, user_delete, user_sign_up


def safe_next(request, default: str) -> str:
    """The `next` page asked for, if it is on this site; else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class PageRateThrottle(ScopedRateThrottle):
    """The API's per-address limits on the pages that do the same thing, sharing their
    counters (and settings): signing up counts with auth/register/, signing in with auth/token/."""

    def __init__(
        self, scope: str
    ):  # not super().__init__(): it looks the rate up before a scope is set
        self.scope = scope

    def allow(self, request) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super(ScopedRateThrottle, self).allow_request(request, None)


def _throttled(request, template: str, form, context: dict):
    form.add_error(
        None, _("Too many attempts from your network. Please wait a few minutes and try again.")
    )
    return render(request, template, {**context, "form": form}, status=429)


def start_url_for(user: User) -> str:
    """Where each role starts: clients at the directory, counselors at their dashboard,
    supervisors at the crisis queue, staff at the review queue."""
    if user.role == User.Role.COUNSELOR:
        return reverse("listening:counselor-dashboard")
    if user.role == User.Role.SUPERVISOR:
        return "/oncall/"
    if user.is_staff_member:
        return "/staff/flags/"
    return reverse("counselors:counselor-directory")


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


def _ui_language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# --- public ---------------------------------------------------------------------------------


def signup(request):
    if request.user.is_authenticated:
        return redirect(start_url_for(request.user))
    if request.method == "POST":
        form = forms.SignupForm(request.POST)
        if not PageRateThrottle("register").allow(request):
            return _throttled(
                request, "registration/signup.html", form, {"next": safe_next(request, "")}
            )
        if form.is_valid():
            done = form_submit(form, user_sign_up, **form.cleaned_data)
            if done.ok:
                user = done.result
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request, _("Welcome to Pianke, %(name)s.") % {"name": user.username}
                )
                if user.is_counselor:
                    messages.info(
                        request,
                        _(
                            "Fill in your profile and add a credential: staff verify it before "
                            "clients can find you."
                        ),
                    )
                    target = reverse("counselors:counselor-profile-edit")
                else:
                    target = safe_next(request, reverse("accounts:intake"))
                response = redirect(target)
                _set_language_cookie(response, user.language)
                return response
        status = 400
    else:
        form = forms.SignupForm(
            initial={
                "timezone": viewer_zone_name(request) or "Asia/Shanghai",
                "language": _ui_language(),
                "role": request.GET.get("role", "client"),
            }
        )
        status = 200
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": safe_next(request, "")},
        status=status,
    )


class SignInView(LoginView):
    """Django's sign-in; afterwards the pages speak the user's own language unless this
    browser already chose one with the language switch."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not PageRateThrottle("token").allow(request):
            form = self.get_form()
            return _throttled(request, self.template_name, form, self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        if settings.LANGUAGE_COOKIE_NAME not in self.request.COOKIES:
            _set_language_cookie(response, form.get_user().language)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_default_redirect_url(self):
        return start_url_for(self.request.user)


@login_required
def start(request):
    return redirect(start_url_for(request.user))


@require_POST
def language_switch(request):
    """The header's language switch: Django's set_language (a cookie), and for a signed-in
    user also their stored language, which e-mails use."""
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in User.Language.values
        and language != request.user.language
    ):
        user_update(user=request.user, language=language)
    return set_language(request)


# --- consent and intake -----------------------------------------------------------------------


@client_required
def consent(request):
    next_url = safe_next(request, "")
    if request.method == "POST":
        form = forms.ConsentForm(request.POST)
        if form.is_valid():
            done = form_submit(
                form,
                consent_agree,
                user=request.user,
                version=form.cleaned_data["version"],
                language=_ui_language(),
            )
            if done.ok:
                return redirect(with_next(reverse("accounts:intake"), next_url))
        status = 400
    else:
        form = forms.ConsentForm(initial={"version": CURRENT_VERSION})
        status = 200
    record = consent_current_for(request.user)
    return render(
        request,
        "accounts/consent.html",
        {
            "form": form,
            "record": record,
            "version": CURRENT_VERSION,
            "next": next_url,
            "paragraphs": consent_text(CURRENT_VERSION, _ui_language()).split("\n\n"),
        },
        status=status,
    )


@client_required
def intake(request):
    """The short intake. Without a standing consent to the current text, the consent first."""
    next_url = safe_next(request, "")
    if consent_current_for(request.user) is None:
        return redirect(with_next(reverse("accounts:consent"), next_url))
    status = 200
    if request.method == "POST":
        form = forms.IntakeForm(request.POST)
        status = 400
        if form.is_valid():
            # A consent withdrawn meanwhile is Conflict `consent_required`: back to the consent.
            done = form_submit(form, intake_submit, user=request.user, **form.service_arguments())
            if done.ok:
                return redirect(with_next(reverse("accounts:intake-result"), next_url))
            status = done.status
    else:
        form = forms.IntakeForm(initial={"consent_version": CURRENT_VERSION})
    return render(
        request,
        "accounts/intake.html",
        {
            "form": form,
            "next": next_url,
            "current": intake_current_for(request.user),
            "specialties": specialty_list(),
        },
        status=status,
    )


@client_required
def intake_result(request):
    """The outcome of the client's current intake, said kindly: the band, longer-term care
    for a severe band (never a block), crisis lines when there is a risk."""
    current = intake_current_for(request.user)
    if current is None:
        return redirect("accounts:intake")
    outcome = intake_outcome(intake=current, language=_ui_language())
    if "crisis_resources" in outcome:
        outcome["crisis_resources"]["hotlines"] = [
            with_contact_links(h) for h in outcome["crisis_resources"]["hotlines"]
        ]
    if "longer_term_care" in outcome:
        outcome["longer_term_care"]["resources"] = [
            with_contact_links(r) for r in outcome["longer_term_care"]["resources"]
        ]
    return render(
        request,
        "accounts/intake_result.html",
        {"intake": current, "outcome": outcome, "next": safe_next(request, "")},
    )


# --- the account page ----------------------------------------------------------------------------


def _preference_initial(user: User) -> dict:
    pref = notification_preference_for(user=user)
    return {name: getattr(pref, name) for name in forms.NotificationPreferenceForm.base_fields}


def _account_context(
    request, *, settings_form=None, delete_form=None, notifications_form=None
) -> dict:
    user = request.user
    return {
        "notifications_form": notifications_form
        or forms.NotificationPreferenceForm(initial=_preference_initial(user)),
        "settings_form": settings_form
        or forms.AccountSettingsForm(
            initial={"timezone": user.timezone, "language": user.language}
        ),
        "delete_form": delete_form or forms.AccountDeleteForm(user=user),
        "consent_record": consent_current_for(user) if user.is_client else None,
        "current_intake": intake_current_for(user) if user.is_client else None,
    }


@login_required
def account(request):
    if request.method == "POST":
        form = forms.AccountSettingsForm(request.POST)
        if form.is_valid():
            done = form_submit(form, user_update, user=request.user, **form.cleaned_data)
            if done.ok:
                messages.success(request, _("Your settings are saved."))
                response = redirect("accounts:account")
                _set_language_cookie(response, request.user.language)
                return response
        return render(
            request,
            "accounts/account.html",
            _account_context(request, settings_form=form),
            status=400,
        )
    return render(request, "accounts/account.html", _account_context(request))


@login_required
def account_export(request):
    """Everything about me as a JSON download."""
    data = user_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="pianke-my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def account_delete(request):
    form = forms.AccountDeleteForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(
            request,
            "accounts/account.html",
            _account_context(request, delete_form=form),
            status=400,
        )
    user_delete(user_id=request.user.pk)
    logout(request)
    messages.success(request, _("Your account is deleted. Take care of yourself."))
    return redirect("home")


@client_required
@require_POST
def account_consent_withdraw(request):
    consent_withdraw(user=request.user)
    messages.info(request, WITHDRAWN_MESSAGE[pick_language(_ui_language())])
    return redirect("accounts:account")


@login_required
@require_POST
def account_notifications(request):
    form = forms.NotificationPreferenceForm(request.POST)
    if form.is_valid():
        done = form_submit(
            form, notification_preference_update, user=request.user, **form.cleaned_data
        )
        if done.ok:
            messages.success(request, _("Your notification settings are saved."))
            return redirect(reverse("accounts:account") + "#notifications-heading")
    return render(
        request,
        "accounts/account.html",
        _account_context(request, notifications_form=form),
        status=400,
    )


# --- in-page notices -------------------------------------------------------------------------

NOTICES_SHOWN = 100


@login_required
def notices(request):
    """All my notices, newest first (the latest hundred), unread ones marked."""
    zone = ZoneInfo(request.user.timezone)
    rows = [notice_rendered(n, zone=zone) for n in notices_of(user=request.user)[:NOTICES_SHOWN]]
    return render(request, "accounts/notices.html", {"notice_rows": rows})


@login_required
@require_POST
def notice_read(request, notice_id: int):
    """Dismiss one of my notices (anyone else's: 404), then back where I was."""
    try:
        notice_mark_read(user=request.user, notice_id=notice_id)
    except Notice.DoesNotExist:
        raise Http404 from None
    return redirect(safe_next(request, reverse("accounts:notices")))


@login_required
@require_POST
def notices_read_all(request):
    notices_mark_all_read(user=request.user)
    return redirect(safe_next(request, reverse("accounts:notices")))


@csrf_exempt  # RFC 8058: the mail client POSTs without a session or CSRF token; the token is the key
def unsubscribe(request, token: str):
    """The one-click unsubscribe of reminder e-mails: GET asks, POST turns them off. No sign-in;
    a token that is not ours is a 404."""
    try:
        user = unsubscribe_token_user(token=token)
    except User.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        reminder_emails_unsubscribe(user=user)
        return render(request, "accounts/unsubscribe.html", {"done": True})
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "accounts/unsubscribe.html", {"done": False})
