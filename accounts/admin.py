from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User
from accounts.services import user_suspend


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "timezone", "language", "is_active", "date_joined"]
    list_filter = ["role", "language", "is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (("Pianke", {"fields": ("role", "timezone", "language")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Pianke", {"fields": ("role", "timezone", "language")}),)
    actions = ["suspend"]

    @admin.action(description="Suspend the selected accounts (sign-in blocked, open sessions closed)")
    def suspend(self, request, queryset):
        for user in queryset:
            user_suspend(user_id=user.pk)
        self.message_user(request, f"Suspended {queryset.count()} accounts.")
