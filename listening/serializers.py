from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.fields import AwareDateTimeField
from core.sessions import SESSION_LENGTHS, SessionMode
from listening.models import Booking
from listening.selectors import booking_funding
from listening.toolkit import entry_answers


class BookingInputSerializer(serializers.Serializer):
    """`duration_minutes` may be left out when `offering` names one: the offering fixes it."""

    counselor = serializers.IntegerField(min_value=1)
    start = AwareDateTimeField()
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS, required=False)
    offering = serializers.IntegerField(min_value=1, required=False)
    # One of the client's package purchases (packages/purchases/) to book a session of.
    package = serializers.IntegerField(min_value=1, required=False)
    mode = serializers.ChoiceField(choices=SessionMode.choices)
    topic = serializers.CharField(max_length=120)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if "duration_minutes" not in attrs and "offering" not in attrs and "package" not in attrs:
            raise serializers.ValidationError(
                {
                    "duration_minutes": [
                        _("This field is required unless an offering or a package is named.")
                    ]
                }
            )
        return attrs


class BookingSerializer(serializers.ModelSerializer):
    counselor = serializers.IntegerField(source="counselor_id", read_only=True)
    counselor_name = serializers.CharField(source="counselor.display_name", read_only=True)
    client = serializers.IntegerField(source="client_id", read_only=True)
    client_name = serializers.CharField(source="client.username", read_only=True)
    offering = serializers.IntegerField(source="offering_id", read_only=True, allow_null=True)
    package = serializers.IntegerField(
        source="package_purchase_id", read_only=True, allow_null=True
    )
    price = serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, read_only=True
    )
    funding = serializers.SerializerMethodField(
        help_text='Who pays: {"kind": "allowance", "organisation": name} or '
        '{"kind": "self", "note": why the organisation\'s allowance did not}. The organisation '
        "and the note are shown to the client only."
    )

    class Meta:
        model = Booking
        fields = [
            "id",
            "status",
            "counselor",
            "counselor_name",
            "client",
            "client_name",
            "start",
            "end",
            "duration_minutes",
            "mode",
            "topic",
            "note",
            "price",
            "offering",
            "package",
            "created_at",
            "cancelled_at",
            "cancel_reason",
            "no_show_party",
            "funding",
        ]

    def get_funding(self, booking) -> dict:
        request = self.context.get("request")
        return booking_funding(booking, viewer=getattr(request, "user", None))


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RescheduleInputSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    duration_minutes = serializers.ChoiceField(choices=SESSION_LENGTHS, required=False)
    # Required of the counselor (the service says so); the client may leave it out.
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MessageInputSerializer(serializers.Serializer):
    """JSON `{text}` or multipart with `audio` (a voice note); `id` is the sender's own UUID
    for the message, so a retried upload is not stored twice (made up here if absent)."""

    id = serializers.UUIDField(required=False)
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, trim_whitespace=True, default=""
    )
    audio = serializers.FileField(required=False, allow_empty_file=False)

    def validate(self, attrs):
        if not attrs.get("text") and not attrs.get("audio"):
            raise serializers.ValidationError({"text": ["Send text or an audio voice note."]})
        return attrs


class MessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    seq = serializers.IntegerField()
    sender = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["text", "voice"])
    text = serializers.CharField(allow_blank=True)
    sent_at = serializers.DateTimeField()
    audio_url = serializers.CharField(required=False)
    audio_seconds = serializers.FloatField(required=False)


class FeedbackSerializer(serializers.Serializer):
    pre_distress = serializers.IntegerField(min_value=0, max_value=10)
    post_distress = serializers.IntegerField(min_value=0, max_value=10)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    created_at = serializers.DateTimeField(read_only=True)


class CalendarFeedSerializer(serializers.Serializer):
    """The caller's feed: whether one is live, and when it was made and last fetched. The URL
    is only in the answer to the POST that made it (`url`, `webcal_url`)."""

    active = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
    last_fetched_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(required=False)
    webcal_url = serializers.CharField(required=False)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class MyCounselorSerializer(serializers.Serializer):
    counselor = serializers.IntegerField(source="profile.pk")
    display_name = serializers.CharField(source="profile.display_name")
    last_session = serializers.DateTimeField()
    bookable = serializers.BooleanField()
    next_slots = serializers.SerializerMethodField()
    preferred = serializers.BooleanField()
    notify_new_windows = serializers.BooleanField()
    history_shared = serializers.BooleanField()
    history_shared_since = serializers.DateTimeField(allow_null=True)

    def get_next_slots(self, row) -> list[dict]:
        return SlotSerializer([{"start": s, "end": e} for s, e in row.next_slots], many=True).data


class PreferredInputSerializer(serializers.Serializer):
    notify_new_windows = serializers.BooleanField(required=False, default=False)


class HistoryShareSerializer(serializers.Serializer):
    shared = serializers.BooleanField()
    granted_at = serializers.DateTimeField(allow_null=True)


class HistoryItemSerializer(serializers.Serializer):
    booking = serializers.IntegerField(source="booking_id")
    start = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    mode = serializers.CharField()
    topic = serializers.CharField()
    status = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class ClientHistorySerializer(serializers.Serializer):
    shared = serializers.BooleanField()
    shared_since = serializers.DateTimeField(allow_null=True)
    sessions = HistoryItemSerializer(many=True)


# --- the toolkit -------------------------------------------------------------------------------


class ToolkitItemBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    fields = serializers.JSONField()
    is_library = serializers.BooleanField()
    audio_url = serializers.SerializerMethodField()

    def get_audio_url(self, item) -> str | None:
        return reverse("listening:toolkit-audio", args=[item.pk]) if item.audio else None


class ToolkitEntrySerializer(serializers.Serializer):
    """An entry, with its answers decrypted: only ever rendered for its client or, once
    shared, for the counselor of its session."""

    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    item_title = serializers.CharField(source="item.title")
    kind = serializers.CharField(source="item.kind")
    booking = serializers.IntegerField(source="booking_id", allow_null=True)
    answers = serializers.SerializerMethodField()
    shared = serializers.SerializerMethodField()
    shared_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_answers(self, entry) -> dict:
        return entry_answers(entry)

    def get_shared(self, entry) -> bool:
        return entry.shared_at is not None


class ToolkitEntryInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)
    booking = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    answers = serializers.JSONField()
    share = serializers.BooleanField(required=False, default=False)


class ToolkitEntryUpdateSerializer(serializers.Serializer):
    answers = serializers.JSONField(required=False)
    share = serializers.BooleanField(required=False)


class SessionToolkitSerializer(serializers.Serializer):
    booking = serializers.IntegerField(source="booking.pk")
    start = serializers.DateTimeField(source="booking.start")
    counselor_name = serializers.CharField(source="booking.counselor.display_name")
    offering = serializers.IntegerField(source="booking.offering_id", allow_null=True)
    items = ToolkitItemBriefSerializer(many=True)
    notes = serializers.DictField(child=serializers.CharField())
    entries = ToolkitEntrySerializer(many=True)


class ToolkitSerializer(serializers.Serializer):
    sessions = SessionToolkitSerializer(many=True)


class AssignmentInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    booking = serializers.IntegerField(source="booking_id")
    item = serializers.IntegerField(source="item_id")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class BookingToolkitSerializer(serializers.Serializer):
    """A session's tools as one participant sees them: the items, and the entries (the
    client's own; for the counselor, the ones the client shared)."""

    items = ToolkitItemBriefSerializer(many=True)
    entries = ToolkitEntrySerializer(many=True)
