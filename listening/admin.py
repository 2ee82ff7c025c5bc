from django.contrib import admin

from core.admin import DeletionRefused
from listening.models import Booking, Feedback, SessionMessage


@admin.register(Booking)
class BookingAdmin(DeletionRefused, admin.ModelAdmin):
    """No deletion: a booking is the record of a session (the ledger, alerts, referrals and
    complaints refer to it); it is cancelled through listening.services.booking_cancel, and
    its content goes by the retention purge or with the account."""

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
class FeedbackAdmin(DeletionRefused, admin.ModelAdmin):
    """The client's word on a session (and its distress before and after): never deleted."""

    list_display = ["booking", "rating", "pre_distress", "post_distress", "created_at"]
    list_filter = ["rating", "created_at"]


@admin.register(SessionMessage)
class SessionMessageAdmin(DeletionRefused, admin.ModelAdmin):
    """Metadata only: the content is encrypted and read by staff only through an ethics review.
    Messages go only by the retention purge (listening.services.session_content_purge) or with
    the account (user_bookings_erase), both of which keep a session under an ethics hold."""

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
