"""Package pages: what is on offer (with a buy button for clients), a client's purchases
with the sessions left, and the form a counselor (or staff, for the platform) defines one
with. Thin: forms check the input, packages.services decides."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.pages import client_required, form_submit, role_required
from packages.forms import PackageForm
from packages.models import Package
from packages.selectors import package_list_published, purchase_list_for_client
from packages.services import package_buy as package_buy_service
from packages.services import package_create

owner_required = role_required(lambda user: user.is_counselor or user.is_staff_member)


@require_http_methods(["GET"])
def package_list(request):
    packages = list(package_list_published())
    return render(request, "packages/package_list.html", {"packages": packages})


@client_required
@require_http_methods(["GET"])
def purchase_list(request):
    return render(
        request,
        "packages/purchase_list.html",
        {"purchases": list(purchase_list_for_client(user=request.user))},
    )


@client_required
@require_POST
def package_buy(request, package_id: int):
    try:
        package = package_list_published().get(pk=package_id)
    except Package.DoesNotExist:
        raise Http404 from None
    package_buy_service(client=request.user, package_id=package.pk)  # a Conflict: the 409 page
    messages.success(
        request,
        _("You bought “%(title)s”. Book each session from a counselor's page.")
        % {"title": package.title},
    )
    return redirect("packages:purchase-list")


@owner_required
@require_http_methods(["GET", "POST"])
def package_new(request):
    form = PackageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = form_submit(form, package_create, user=request.user, **form.cleaned_data)
            if done.ok:
                messages.success(request, _("Your package is on offer."))
                return redirect("packages:package-list")
            status = done.status
    return render(request, "packages/package_new.html", {"form": form}, status=status)
