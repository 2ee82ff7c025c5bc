from django.contrib import admin

from listening.models import Booking


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["id", "start", "duration_minutes", "mode", "status", "counselor", "client"]
    list_filter = ["status", "mode", "duration_minutes", "start", "ethics_hold"]
    search_fields = ["counselor__display_name", "client__username"]
    date_hierarchy = "start"
    # Topic and note are the client's words: shown, never edited here.
    readonly_fields = ["topic", "note", "created_at", "cancelled_at", "cancelled_by", "completed_at"]
    raw_id_fields = ["counselor", "client"]
