"""admin of organisations: staff see organisations, their admins and allowances. Claims and
memberships are read-only here (the services write them); nothing of them is shown to an
organisation's admin anywhere."""

from django.contrib import admin

from organisations.models import (
    Allowance,
    AllowanceClaim,
    Membership,
    Organisation,
    OrganisationAdmin,
)


class AllowanceInline(admin.StackedInline):
    """Read-only: an allowance is set on /staff/organisations/ (organisations.services.
    allowance_set), which also moves the caps of the current quarter's counters."""

    model = Allowance
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrganisationAdminInline(admin.TabularInline):
    model = OrganisationAdmin
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationModelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "join_code", "email_domain", "is_active"]
    search_fields = ["name", "join_code", "email_domain"]
    inlines = [AllowanceInline, OrganisationAdminInline]


@admin.register(Membership)
class MembershipModelAdmin(admin.ModelAdmin):
    list_display = ["organisation", "user", "via", "joined_at"]
    readonly_fields = ["organisation", "user", "via", "joined_at"]


@admin.register(AllowanceClaim)
class AllowanceClaimModelAdmin(admin.ModelAdmin):
    list_display = ["pk", "organisation", "quarter", "duration_minutes", "mode", "released_at"]
    list_filter = ["organisation", "quarter"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
