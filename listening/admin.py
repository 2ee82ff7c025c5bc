from django.contrib import admin

from listening.models import Booking, Feedback, SessionMessage


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["id", "start", "duration_minutes", "mode", "status", "counselor", "client"]
    list_filter = ["status", "mode", "duration_minutes", "start", "ethics_hold"]
    search_fields = ["counselor__display_name", "client__username"]
    date_hierarchy = "start"
    # Topic and note are the client's words: shown, never edited here.
    readonly_fields = [
        "topic",
        "note",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "completed_at",
    ]
    raw_id_fields = ["counselor", "client"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["booking", "rating", "pre_distress", "post_distress", "created_at"]
    list_filter = ["rating", "created_at"]


@admin.register(SessionMessage)
class SessionMessageAdmin(admin.ModelAdmin):
    """Metadata only: the content is encrypted and read by staff only through an ethics review."""

    list_display = ["booking", "seq", "kind", "sender", "sent_at"]
    list_filter = ["kind"]
    fields = [
        "booking",
        "seq",
        "uid",
        "kind",
        "sender",
        "sent_at",
        "audio_content_type",
        "audio_seconds",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
