"""Staff pages for counselors: the credential verification queue (/staff/verification/).
The decision is counselors.services.counselor_verify, the same as POST counselors/{id}/verify/.
And the offerings review (/staff/offerings/): counselors.services.offering_unpublish, the same
as POST offerings/{id}/unpublish/."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.pages import form_submit, staff_member_required
from counselors.models import CounselorProfile, Credential, Offering, VerificationRecord
from counselors.selectors import offerings_for_staff
from counselors.services import counselor_verify, offering_unpublish


class VerifyForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", gettext_lazy("Approve: list the counselor")),
            ("reject", gettext_lazy("Reject: keep them unlisted")),
        ],
        widget=forms.RadioSelect,
        label=gettext_lazy("Decision"),
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Note (what was checked; required when rejecting)"),
    )

    def __init__(self, *args, counselor_id: int, **kwargs):
        kwargs.setdefault("auto_id", f"verify{counselor_id}_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why, so the counselor can put it right."))
        return data


SHOWN = {
    "pending": CounselorProfile.Verification.PENDING,
    "rejected": CounselorProfile.Verification.REJECTED,
}


def verification_queue(status: str):
    """Counselors awaiting a decision (or rejected) who have filed at least one credential,
    oldest first, with their credentials and past decisions."""
    return (
        CounselorProfile.objects.filter(verification=SHOWN[status])
        .annotate(credential_count=Count("credentials"))
        .filter(credential_count__gt=0)
        .select_related("user")
        .prefetch_related(
            "specialties",
            Prefetch("credentials", queryset=Credential.objects.order_by("created_at")),
            Prefetch(
                "verification_records",
                queryset=VerificationRecord.objects.select_related("reviewer"),
            ),
        )
        .order_by("created_at", "pk")
    )


def _render(request, *, status: str = "pending", bound: dict | None = None, http_status: int = 200):
    profiles = list(verification_queue(status))
    bound = bound or {}
    rows = [
        {"profile": p, "form": bound.get(p.pk) or VerifyForm(counselor_id=p.pk)} for p in profiles
    ]
    return render(
        request, "staff/verification.html", {"rows": rows, "showing": status}, status=http_status
    )


@staff_member_required
@require_GET
def verification(request):
    status = request.GET.get("show", "pending")
    if status not in SHOWN:
        status = "pending"
    return _render(request, status=status)


@staff_member_required
@require_POST
def verify(request, counselor_id: int):
    profile = CounselorProfile.objects.filter(pk=counselor_id).select_related("user").first()
    if profile is None:
        raise Http404
    form = VerifyForm(request.POST, counselor_id=counselor_id)
    status = (
        "rejected" if profile.verification == CounselorProfile.Verification.REJECTED else "pending"
    )
    if not form.is_valid():
        return _render(request, status=status, bound={counselor_id: form}, http_status=400)
    approved = form.cleaned_data["decision"] == "approve"
    counselor_verify(
        counselor_id=counselor_id,
        reviewer=request.user,
        approved=approved,
        note=form.cleaned_data["note"].strip(),
    )
    name = profile.display_name or profile.user.username
    if approved:
        messages.success(request, _("%(name)s is verified and now listed.") % {"name": name})
    else:
        messages.success(request, _("%(name)s was rejected and stays unlisted.") % {"name": name})
    return redirect("counselors:staff-verification")


# --- offerings: staff review and unpublishing (/staff/offerings/) ----------------------------


class UnpublishForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Reason (the counselor reads it)"),
        error_messages={"required": gettext_lazy("Give the reason the counselor will read.")},
    )

    def __init__(self, *args, offering_id: int, **kwargs):
        kwargs.setdefault("auto_id", f"unpublish{offering_id}_%s")
        super().__init__(*args, **kwargs)


OFFERINGS_PAGE_SIZE = 30


def _offerings_page(request, *, bound: dict | None = None, http_status: int = 200):
    page = Paginator(offerings_for_staff(), OFFERINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    bound = bound or {}
    rows = [
        {"offering": o, "form": bound.get(o.pk) or UnpublishForm(offering_id=o.pk)}
        for o in page.object_list
    ]
    return render(request, "staff/offerings.html", {"rows": rows, "page": page}, status=http_status)


@staff_member_required
@require_GET
def staff_offerings(request):
    """Every counselor's offerings, published first, each with an unpublish form."""
    return _offerings_page(request)


@staff_member_required
@require_POST
def staff_offering_unpublish(request, offering_id: int):
    form = UnpublishForm(request.POST, offering_id=offering_id)
    if not form.is_valid():
        return _offerings_page(request, bound={offering_id: form}, http_status=400)
    try:
        done = form_submit(
            form,
            offering_unpublish,
            staff=request.user,
            offering_id=offering_id,
            reason=form.cleaned_data["reason"],
        )
    except Offering.DoesNotExist:
        raise Http404 from None
    if not done.ok:
        return _offerings_page(request, bound={offering_id: form}, http_status=done.status)
    messages.success(request, _("The offering is unpublished and its counselor told why."))
    return redirect("counselors:staff-offerings")
