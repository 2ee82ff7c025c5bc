from django.contrib import admin

from core.admin import DeletionRefused, SuperuserDeletes
from matching.models import MatchRequest, Offer, Presence, Surge, SurgeCall, SurgeEvent


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    can_delete = False
    fields = ["counselor", "status", "score", "reasons", "created_at", "expires_at", "responded_at"]
    readonly_fields = fields


@admin.register(MatchRequest)
class MatchRequestAdmin(DeletionRefused, admin.ModelAdmin):
    """For following a request's path; the note stays encrypted and is not shown here. Never
    deleted: closing the account erases the note (matching.services.user_match_requests_erase)."""

    list_display = [
        "id",
        "when",
        "status",
        "topic",
        "mode",
        "language",
        "risk",
        "created_at",
        "matched_at",
    ]
    list_filter = ["status", "when", "risk", "mode"]
    fields = [
        "client",
        "topic",
        "mode",
        "language",
        "duration_minutes",
        "when",
        "earliest",
        "latest",
        "risk",
        "wants_someone_new",
        "status",
        "booking",
        "suggestions",
        "created_at",
        "deadline_at",
        "matched_at",
        "closed_at",
    ]
    readonly_fields = fields
    inlines = [OfferInline]

    def has_add_permission(self, request):
        return False


@admin.register(Presence)
class PresenceAdmin(SuperuserDeletes, admin.ModelAdmin):
    """A counselor's duty: made by going on duty and ended by matching.services.presence_end
    (which withdraws their offers); only a superuser deletes a row."""

    list_display = ["counselor", "online", "last_seen_at", "missed_in_a_row"]
    list_filter = ["online"]
    readonly_fields = ["counselor", "last_seen_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # the counselor goes on duty; the form cannot even name one


class SurgeEventInline(admin.TabularInline):
    model = SurgeEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "changes"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Surge)
class SurgeAdmin(DeletionRefused, admin.ModelAdmin):
    """For looking up a surge; declaring, changing and ending it is on /staff/surges/, where
    every change is audited (so nothing is editable, or deleted, here)."""

    list_display = ["id", "region", "starts_at", "ends_at", "ended_at", "declared_by"]
    readonly_fields = [f.name for f in Surge._meta.fields]
    inlines = [SurgeEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(SurgeCall)
class SurgeCallAdmin(DeletionRefused, admin.ModelAdmin):
    """Who a surge called, and when: part of the surge's record."""

    list_display = ["surge", "counselor", "status", "created_at", "sent_at"]
    list_filter = ["status"]
    readonly_fields = ["surge", "counselor", "status", "created_at", "sent_at"]

    def has_add_permission(self, request):
        return False
