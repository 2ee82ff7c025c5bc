from django.contrib import admin

from core.admin import DeletionRefused, SuperuserDeletes
from packages.models import Package, PackagePurchase


@admin.register(Package)
class PackageAdmin(SuperuserDeletes, admin.ModelAdmin):
    """Staff stop selling a package by withdrawing it (packages.services.package_withdraw);
    only a superuser deletes one (purchases protect theirs)."""

    list_display = ["__str__", "life_stage", "counselor", "sessions", "price", "status"]
    list_filter = ["status", "life_stage"]


@admin.register(PackagePurchase)
class PackagePurchaseAdmin(DeletionRefused, admin.ModelAdmin):
    """Read-only: purchases change through packages.services (claims, returns, expiry)."""

    list_display = ["pk", "package", "sessions_total", "sessions_used", "status", "expires_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in PackagePurchase._meta.fields]

    def has_add_permission(self, request):
        return False
