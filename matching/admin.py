from django.contrib import admin

from matching.models import MatchRequest, Offer, Presence


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    can_delete = False
    fields = ["counselor", "status", "score", "reasons", "created_at", "expires_at", "responded_at"]
    readonly_fields = fields


@admin.register(MatchRequest)
class MatchRequestAdmin(admin.ModelAdmin):
    """For following a request's path; the note stays encrypted and is not shown here."""

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
class PresenceAdmin(admin.ModelAdmin):
    list_display = ["counselor", "online", "last_seen_at", "missed_in_a_row"]
    list_filter = ["online"]
    readonly_fields = ["counselor", "last_seen_at", "updated_at"]
