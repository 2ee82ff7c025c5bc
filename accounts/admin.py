import logging

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ConsentRecord, Intake, User
from accounts.services import user_suspend
from core.admin import DeletionRefused


@admin.register(User)
class UserAdmin(DeletionRefused, BaseUserAdmin):
    """No deletion: an account is closed by workflows.services.user_delete, which anonymises
    the row (bookings and alerts refer to it) and erases each app's data by its rules."""

    list_display = ["username", "role", "timezone", "language", "is_active", "date_joined"]
    list_filter = ["role", "language", "is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Pianke", {"fields": ("role", "timezone", "language")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("Pianke", {"fields": ("role", "timezone", "language")}),
    )
    actions = ["suspend"]

    @admin.action(
        description="Suspend the selected accounts (sign-in blocked, open sessions closed)"
    )
    def suspend(self, request, queryset):
        for user in queryset:
            user_suspend(user_id=user.pk)
        self.message_user(request, f"Suspended {queryset.count()} accounts.")


health_access_log = logging.getLogger("pianke.health_access")


class HealthAccessLogged:
    """Every staff look at health information (a list or one record) is written to the
    `pianke.health_access` log: who, what, when."""

    def changelist_view(self, request, extra_context=None):
        health_access_log.info(
            "user=%s viewed the %s list query=%r",
            request.user.pk,
            self.model._meta.model_name,
            request.GET.urlencode(),
        )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        health_access_log.info(
            "user=%s viewed %s %s", request.user.pk, self.model._meta.model_name, object_id
        )
        return super().change_view(request, object_id, form_url, extra_context)


class IntakeInline(admin.TabularInline):
    model = Intake
    extra = 0
    can_delete = False
    fields = ["created_at", "topic", "distress", "phq4_score", "band", "item9", "risk"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(HealthAccessLogged, DeletionRefused, admin.ModelAdmin):
    """Read-only: consent is given and withdrawn by the client, never edited by staff. The
    record of what the client agreed to, and when, outlives its review: it goes only with the
    account (intake.services.user_health_information_erase)."""

    list_display = ["user", "version", "language", "agreed_at", "withdrawn_at"]
    list_filter = ["version", "language"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "version", "language", "agreed_at", "withdrawn_at"]
    inlines = [IntakeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Intake)
class IntakeAdmin(HealthAccessLogged, DeletionRefused, admin.ModelAdmin):
    """Health information: staff see it only when reviewing (each look is logged). It goes
    only with the account (intake.services.user_health_information_erase)."""

    list_display = ["user", "created_at", "band", "risk", "distress"]
    list_filter = ["band", "risk"]
    search_fields = ["user__username"]
    readonly_fields = [
        "user",
        "consent",
        "topic",
        "distress",
        "phq4_nervous",
        "phq4_worry",
        "phq4_interest",
        "phq4_down",
        "phq4_score",
        "band",
        "item9",
        "risk",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
