from django.contrib import admin

from core.admin import DeletionRefused
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
class CrisisAlertAdmin(DeletionRefused, admin.ModelAdmin):
    """An alert and its escalation are the safety record: never lost."""

    list_display = [
        "id",
        "severity",
        "status",
        "source",
        "booking",
        "created_at",
        "escalation_level",
        "overdue",
    ]
    list_filter = ["status", "severity", "source", "overdue", "nobody_on_shift"]
    readonly_fields = [f.name for f in CrisisAlert._meta.fields]

    def has_add_permission(self, request):
        return False  # alerts come from the detector or a counselor, through the service


@admin.register(EthicsFlag)
class EthicsFlagAdmin(DeletionRefused, admin.ModelAdmin):
    """A flag is the ethics review's case file (its notes, audit log and complaint refer to
    it): resolved in the staff review (oversight), never deleted."""

    list_display = ["id", "kind", "status", "booking", "counselor", "created_at", "assigned_to"]
    list_filter = ["kind", "status", "created_at"]


from ethics.models import AuditLog, Complaint, FlagNote, Referral


@admin.register(Referral)
class ReferralAdmin(DeletionRefused, admin.ModelAdmin):
    """A referral to outside help, with its check-in, is part of the client's care record."""

    list_display = [
        "id",
        "counselor",
        "client",
        "resource",
        "urgency",
        "status",
        "created_at",
        "follow_up_sent_at",
    ]
    list_filter = ["urgency", "status", "created_at"]
    raw_id_fields = ["booking", "counselor", "client", "resource"]


@admin.register(Complaint)
class ComplaintAdmin(DeletionRefused, admin.ModelAdmin):
    """A client's complaint is answered, never deleted."""

    list_display = ["id", "booking", "client", "flag", "created_at"]
    readonly_fields = [f.name for f in Complaint._meta.fields]

    def has_add_permission(self, request):
        return False  # complaints come from clients, through the service


@admin.register(FlagNote)
class FlagNoteAdmin(DeletionRefused, admin.ModelAdmin):
    """A reviewer's note is part of the review's record."""

    list_display = ["id", "flag", "author", "created_at"]
    raw_id_fields = ["flag", "author"]


@admin.register(AuditLog)
class AuditLogAdmin(DeletionRefused, admin.ModelAdmin):
    """Read-only: the audit trail of the ethics review."""

    list_display = ["created_at", "actor", "action", "flag", "booking", "detail"]
    list_filter = ["action", "created_at"]
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
