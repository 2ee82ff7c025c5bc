from django.contrib import admin

from packages.models import Package, PackagePurchase


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "life_stage", "counselor", "sessions", "price", "status"]
    list_filter = ["status", "life_stage"]


@admin.register(PackagePurchase)
class PackagePurchaseAdmin(admin.ModelAdmin):
    """Read-only: purchases change through packages.services (claims, returns, expiry)."""

    list_display = ["pk", "package", "sessions_total", "sessions_used", "status", "expires_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in PackagePurchase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
