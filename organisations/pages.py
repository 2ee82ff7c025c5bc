"""pages of organisations: a client joins (a code, or an address at the organisation's
domain) and sees their organisation and what is left of its allowance this quarter; an
organisation's admin sees its join code, its allowance and its k-anonymous usage; staff set
organisations up. Thin: a form for the shape, a service for the rule (core.pages helpers).

The admin's page reads usage only through insights.selectors.insights_for_user, which
suppresses every figure below K distinct clients: nothing here lists a member, a booking, a
time or a counselor."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from core.pages import client_required, form_submit, role_required, staff_member_required
from insights.selectors import K, Period, insights_built_at, insights_for_user, table_as_dict
from organisations import forms
from organisations.models import Organisation
from organisations.selectors import (
    allowance_of,
    member_allowance_for_user,
    organisation_administered_by,
)
from organisations.services import (
    EMAIL_SENT,
    allowance_set,
    organisation_admin_add,
    organisation_create,
    organisation_email_confirm,
    organisation_email_verify_start,
    organisation_join,
)

organisation_admin_required = role_required(
    lambda user: organisation_administered_by(user=user) is not None
)


@client_required
@require_http_methods(["GET", "POST"])
def join(request):
    """Join with a code, or ask for a link at an address of the organisation's domain."""
    mine = member_allowance_for_user(user=request.user)
    code_form, email_form = forms.JoinForm(prefix="join"), forms.EmailForm(prefix="email")
    status = 200
    if request.method == "POST" and mine is None:
        if "email-email" in request.POST:
            email_form = forms.EmailForm(request.POST, prefix="email")
            status = 400
            if email_form.is_valid():
                done = form_submit(
                    email_form,
                    organisation_email_verify_start,
                    user=request.user,
                    email=email_form.cleaned_data["email"],
                )
                if done.ok:
                    messages.info(request, str(EMAIL_SENT))
                    return redirect("organisations:join")
                status = done.status
        else:
            code_form = forms.JoinForm(request.POST, prefix="join")
            status = 400
            if code_form.is_valid():
                done = form_submit(
                    code_form,
                    organisation_join,
                    user=request.user,
                    code=code_form.cleaned_data["code"],
                )
                if done.ok:
                    messages.success(
                        request,
                        _("You joined %(name)s. Its allowance now pays for your sessions.")
                        % {"name": done.result.organisation.name},
                    )
                    return redirect("organisations:mine")
                status = done.status
    return render(
        request,
        "organisations/join.html",
        {"mine": mine, "code_form": code_form, "email_form": email_form},
        status=status,
    )


@client_required
@require_http_methods(["GET", "POST"])
def email_confirm(request):
    """The e-mailed link: GET shows a button (so a mail scanner opening the link joins no
    one), POST confirms."""
    source = request.POST if request.method == "POST" else request.GET
    form = forms.EmailConfirmForm(source or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = form_submit(
                form,
                organisation_email_confirm,
                user=request.user,
                token=form.cleaned_data["token"],
            )
            if done.ok:
                messages.success(
                    request,
                    _("Address confirmed: you joined %(name)s.")
                    % {"name": done.result.organisation.name},
                )
                return redirect("organisations:mine")
            status = done.status
    elif not form.is_bound:
        status = 400
    return render(request, "organisations/email_confirm.html", {"form": form}, status=status)


@never_cache
@client_required
@require_GET
def mine(request):
    """The member's organisation and their allowance left this quarter."""
    return render(
        request,
        "organisations/mine.html",
        {
            "mine": member_allowance_for_user(user=request.user),
            "administers": organisation_administered_by(user=request.user),
        },
    )


def _usage_tables(request, organisation: Organisation):
    form = forms.PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    date_from, date_to = form.dates()
    tables = insights_for_user(
        user=request.user,
        period=Period(date_from=date_from, date_to=date_to),
        organisation=organisation,
    )
    return form, {name: table_as_dict(table) for name, table in tables.items()}


@never_cache
@organisation_admin_required
@require_GET
def manage(request):
    """The admin's page: the join code, the allowance and the k-anonymous usage."""
    organisation = organisation_administered_by(user=request.user)
    form, tables = _usage_tables(request, organisation)
    return render(
        request,
        "organisations/manage.html",
        {
            "organisation": organisation,
            "allowance": allowance_of(organisation),
            "form": form,
            "tables": tables,
            "k": K,
            "built_at": insights_built_at(),
        },
        status=200 if tables is not None else 400,
    )


# --- staff -----------------------------------------------------------------------------------


@never_cache
@staff_member_required
@require_http_methods(["GET", "POST"])
def staff_organisations(request):
    """Staff: the organisations, and forms to add one, set an allowance, add an admin."""
    action = request.POST.get("action") if request.method == "POST" else None
    bound = {action: request.POST} if action else {}
    organisation_form = forms.OrganisationForm(bound.get("create"), prefix="create")
    allowance_form = forms.AllowanceForm(bound.get("allowance"), prefix="allowance")
    admin_form = forms.AdminForm(bound.get("admin"), prefix="admin")
    status = 200
    if action == "create":
        status = 400
        if organisation_form.is_valid():
            done = form_submit(
                organisation_form, organisation_create, **organisation_form.cleaned_data
            )
            if done.ok:
                messages.success(request, _("Organisation added."))
                return redirect("organisations:staff-organisations")
            status = done.status
    elif action == "allowance":
        status = 400
        if allowance_form.is_valid():
            done = form_submit(allowance_form, allowance_set, **allowance_form.cleaned_data)
            if done.ok:
                messages.success(request, _("Allowance saved."))
                return redirect("organisations:staff-organisations")
            status = done.status
    elif action == "admin":
        status = 400
        if admin_form.is_valid():
            data = admin_form.cleaned_data
            user = User.objects.filter(username=data["username"]).first()
            if user is None:
                admin_form.add_error("username", _("No account with this username."))
            else:
                done = form_submit(
                    admin_form, organisation_admin_add, organisation=data["organisation"], user=user
                )
                if done.ok:
                    messages.success(request, _("Admin added."))
                    return redirect("organisations:staff-organisations")
                status = done.status
    elif action is not None:
        status = 400
    organisations = Organisation.objects.select_related("allowance").order_by("name")
    return render(
        request,
        "organisations/staff_organisations.html",
        {
            "organisations": organisations,
            "organisation_form": organisation_form,
            "allowance_form": allowance_form,
            "admin_form": admin_form,
            "staff_url": reverse("organisations:staff-organisations"),
        },
        status=status,
    )
