from django.contrib import admin, messages

from counselors.models import (
    AvailabilityWindow,
    CounselorProfile,
    Credential,
    Specialty,
    VerificationRecord,
)
from counselors.services import counselor_verify


class CredentialInline(admin.TabularInline):
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
class CounselorProfileAdmin(admin.ModelAdmin):
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
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["counselor", "licence_type", "number", "issuing_body", "valid_until"]
    list_filter = ["licence_type", "issuing_body"]


@admin.register(VerificationRecord)
class VerificationRecordAdmin(admin.ModelAdmin):
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
