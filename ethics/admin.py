from django.contrib import admin

from ethics.models import CrisisAlert, EthicsFlag, OnCallShift, Resource


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "language", "contact", "last_verified", "is_active"]
    list_filter = ["kind", "region", "language", "is_active"]
    search_fields = ["name", "contact", "description"]


@admin.register(OnCallShift)
class OnCallShiftAdmin(admin.ModelAdmin):
    list_display = ["supervisor", "starts_at", "ends_at"]
    list_filter = ["starts_at"]
    date_hierarchy = "starts_at"


@admin.register(CrisisAlert)
class CrisisAlertAdmin(admin.ModelAdmin):
    list_display = ["id", "severity", "status", "source", "booking", "created_at", "escalation_level", "overdue"]
    list_filter = ["status", "severity", "source", "overdue", "nobody_on_shift"]
    readonly_fields = [f.name for f in CrisisAlert._meta.fields]

    def has_add_permission(self, request):
        return False  # alerts come from the detector or a counselor, through the service


@admin.register(EthicsFlag)
class EthicsFlagAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "booking", "counselor", "created_at", "assigned_to"]
    list_filter = ["kind", "status", "created_at"]
