"""admin of organisations: staff see organisations, their admins and allowances. Claims and
memberships are read-only here (the services write them); nothing of them is shown to an
organisation's admin anywhere."""

from django.contrib import admin

from core.admin import DeletionRefused, SuperuserDeletes
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
    can_delete = False  # allowance_set turns it off; claims refer to it

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrganisationAdminInline(admin.TabularInline):
    model = OrganisationAdmin
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationModelAdmin(SuperuserDeletes, admin.ModelAdmin):
    """Staff make organisations on /staff/organisations/ and end one by unticking is_active;
    only a superuser deletes one (its claims protect it)."""

    list_display = ["name", "kind", "join_code", "email_domain", "is_active"]
    search_fields = ["name", "join_code", "email_domain"]
    inlines = [AllowanceInline, OrganisationAdminInline]


@admin.register(Membership)
class MembershipModelAdmin(DeletionRefused, admin.ModelAdmin):
    """Made by joining (a code or an e-mail domain), removed with the account
    (organisations.services.organisation_data_erase)."""

    list_display = ["organisation", "user", "via", "joined_at"]
    readonly_fields = ["organisation", "user", "via", "joined_at"]

    def has_add_permission(self, request):
        return False  # clients join; every field is read-only, so the form could not add one


@admin.register(AllowanceClaim)
class AllowanceClaimModelAdmin(DeletionRefused, admin.ModelAdmin):
    """A session the organisation paid for: released by the services, never deleted."""

    list_display = ["pk", "organisation", "quarter", "duration_minutes", "mode", "released_at"]
    list_filter = ["organisation", "quarter"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
