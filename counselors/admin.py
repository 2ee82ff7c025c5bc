from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from core.admin import DeletionRefused, SuperuserDeletes
from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Credential,
    Offering,
    Specialty,
    ToolkitItem,
    VerificationRecord,
)
from counselors.services import counselor_verify, offering_unpublish


class CredentialInline(SuperuserDeletes, admin.TabularInline):
    model = Credential
    extra = 0


class VerificationRecordInline(admin.TabularInline):
    model = VerificationRecord
    extra = 0
    readonly_fields = ["reviewer", "approved", "note", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CounselorProfile)
class CounselorProfileAdmin(DeletionRefused, admin.ModelAdmin):
    """No deletion: bookings, referrals and verification records refer to a profile; closing
    the account unlists and empties it (counselors.services.counselor_profile_erase)."""

    list_display = [
        "user_id",
        "display_name",
        "verification",
        "is_active",
        "crisis_trained",
        "daily_cap",
        "rating",
        "created_at",
    ]
    list_filter = ["verification", "is_active", "crisis_trained", "specialties"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["specialties"]
    inlines = [CredentialInline, VerificationRecordInline]
    actions = ["approve", "reject"]

    @admin.action(description="Verify the selected counselors")
    def approve(self, request, queryset):
        for profile in queryset:
            counselor_verify(
                counselor_id=profile.pk, reviewer=request.user, approved=True, note="admin action"
            )
        self.message_user(request, f"Verified {queryset.count()} counselors.", messages.SUCCESS)

    @admin.action(description="Reject the selected counselors")
    def reject(self, request, queryset):
        for profile in queryset:
            counselor_verify(
                counselor_id=profile.pk, reviewer=request.user, approved=False, note="admin action"
            )
        self.message_user(request, f"Rejected {queryset.count()} counselors.", messages.WARNING)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_en", "name_zh"]
    filter_horizontal = ["related"]


@admin.register(Credential)
class CredentialAdmin(SuperuserDeletes, admin.ModelAdmin):
    """A credential is the evidence a verification decision rests on: staff keep it (an
    expired one shows its date); only a superuser removes one entered by mistake."""

    list_display = ["counselor", "licence_type", "number", "issuing_body", "valid_until"]
    list_filter = ["licence_type", "issuing_body"]


@admin.register(VerificationRecord)
class VerificationRecordAdmin(DeletionRefused, admin.ModelAdmin):
    """The audit of staff's verification decisions: never deleted."""

    list_display = ["counselor", "approved", "reviewer", "created_at"]
    list_filter = ["approved", "created_at"]


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = [
        "counselor",
        "kind",
        "weekday",
        "start_time",
        "end_time",
        "timezone",
        "start",
        "end",
    ]
    list_filter = ["kind", "weekday", "timezone"]


@admin.register(ToolkitItem)
class ToolkitItemAdmin(DeletionRefused, admin.ModelAdmin):
    """No deletion here: the admin's would take along the assignments of the item to clients'
    sessions; counselors.services.toolkit_item_delete refuses an item clients have."""

    list_display = ["slug", "kind", "title_en", "title_zh", "owner", "updated_at"]
    list_filter = ["kind", ("owner", admin.EmptyFieldListFilter)]
    search_fields = ["slug", "title_en", "title_zh"]
    readonly_fields = ["audio_content_type", "audio_seconds", "created_at", "updated_at"]


class UnpublishReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Reason (the counselor reads it)",
    )


@admin.register(Offering)
class OfferingAdmin(SuperuserDeletes, admin.ModelAdmin):
    """Staff take an offering down with the `unpublish` action (who, when and why, and the
    counselor is told); only a superuser deletes one (bookings protect theirs)."""

    list_display = ["title_en", "title_zh", "counselor", "duration_minutes", "price", "status"]
    list_filter = ["status", "duration_minutes"]
    search_fields = ["title_en", "title_zh", "counselor__display_name"]
    filter_horizontal = ["specialties", "items"]
    # Status changes go through the services (withdraw, unpublish with a reason), not the form.
    readonly_fields = [
        "status",
        "unpublished_reason",
        "unpublished_by",
        "unpublished_at",
        "created_at",
        "updated_at",
    ]
    actions = ["unpublish"]

    @admin.action(description="Unpublish the selected offerings (asks for a reason)")
    def unpublish(self, request, queryset):
        """An intermediate page asks for the reason; the service records who, when and why and
        tells each counselor. Offerings not published are skipped."""
        form = UnpublishReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for offering in queryset.filter(status=Offering.Status.PUBLISHED):
                offering_unpublish(
                    staff=request.user,
                    offering_id=offering.pk,
                    reason=form.cleaned_data["reason"],
                )
                done += 1
            self.message_user(request, f"Unpublished {done} offerings.", messages.WARNING)
            return None
        return TemplateResponse(
            request,
            "admin/counselors/offering_unpublish.html",
            {
                **self.admin_site.each_context(request),
                "title": "Unpublish offerings",
                "offerings": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )
