import uuid

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core.permissions import IsClient, IsCounselor
from counselors.models import CounselorProfile
from counselors.services import (
    history_share_grant,
    history_share_withdraw,
    preferred_counselor_remove,
    preferred_counselor_set,
)
from ethics.services import crisis_hotlines_for
from listening import serializers, toolkit
from listening.calendar import booking_icalendar, feed_icalendar
from listening.feeds import (
    calendar_feed_bookings,
    calendar_feed_create,
    calendar_feed_live,
    calendar_feed_open,
    calendar_feed_revoke,
    feed_urls,
    token_hash,
)
from listening.filters import BookingFilter
from listening.models import Booking, CalendarFeed, SessionMessage, ToolkitEntry
from listening.selectors import (
    booking_get_for_participant,
    booking_list_for_user,
    client_history_for_counselor,
    message_frame,
    met_counselor_get,
    my_counselors_for_client,
)
from listening.services import (
    booking_cancel,
    booking_create,
    booking_reschedule,
    feedback_submit,
    message_audio_read,
    message_post,
)


class BookingListView(generics.ListAPIView):
    """The caller's own bookings (as client or counselor), soonest first; POST books a slot (clients)."""

    serializer_class = serializers.BookingSerializer
    filterset_class = BookingFilter

    def get_permissions(self):
        return [IsClient()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Booking.objects.none()
        return booking_list_for_user(user=self.request.user).order_by("start", "pk")

    @extend_schema(
        request=serializers.BookingInputSerializer, responses={201: serializers.BookingSerializer}
    )
    def post(self, request):
        data = serializers.BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        duration = fields.pop("duration_minutes", None)
        booking = booking_create(
            client=request.user,
            counselor_id=fields.pop("counselor"),
            duration_minutes=int(duration) if duration is not None else None,
            offering_id=fields.pop("offering", None),
            package_id=fields.pop("package", None),
            **fields,
        )
        # Answered from the inserted row: it carries its counselor (with user) and client.
        return Response(
            serializers.BookingSerializer(booking, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class BookingDetailView(APIView):
    @extend_schema(responses=serializers.BookingSerializer)
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking, context={"request": request}).data)


class BookingCancelView(APIView):
    @extend_schema(
        request=serializers.CancelInputSerializer, responses=serializers.BookingSerializer
    )
    def post(self, request, pk: int):
        data = serializers.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_cancel(booking_id=pk, user=request.user, **data.validated_data)
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking, context={"request": request}).data)


class BookingRescheduleView(APIView):
    """Move a booking to another free slot of the same counselor (the client, or the
    counselor with a reason), until the counselor's cut-off."""

    @extend_schema(
        request=serializers.RescheduleInputSerializer, responses=serializers.BookingSerializer
    )
    def post(self, request, pk: int):
        data = serializers.RescheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_reschedule(booking_id=pk, user=request.user, **data.validated_data)
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        return Response(serializers.BookingSerializer(booking, context={"request": request}).data)


class BookingCalendarView(APIView):
    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        response = HttpResponse(
            booking_icalendar(booking=booking, viewer=request.user),
            content_type="text/calendar; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="pianke-session-{booking.pk}.ics"'
        return response


class MessageListView(generics.GenericAPIView):
    """A booking's messages, oldest first (live chat and async); POST sends an async text or
    voice note (webm/ogg/mp4/mpeg audio, at most 5 MB and 3 minutes)."""

    serializer_class = serializers.MessageSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SessionMessage.objects.none()
        booking = booking_get_for_participant(user=self.request.user, booking_id=self.kwargs["pk"])
        return SessionMessage.objects.filter(booking=booking).order_by("seq")

    @extend_schema(responses=serializers.MessageSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([message_frame(m) for m in page])

    @extend_schema(
        request={
            "application/json": serializers.MessageInputSerializer,
            "multipart/form-data": serializers.MessageInputSerializer,
        },
        responses={201: serializers.MessageSerializer, 200: serializers.MessageSerializer},
    )
    def post(self, request, pk: int):
        booking_get_for_participant(user=request.user, booking_id=pk)  # 404 unless theirs
        data = serializers.MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = message_post(
            booking_id=pk,
            sender=request.user,
            uid=data.validated_data.get("id") or uuid.uuid4(),
            text=data.validated_data["text"],
            audio=data.validated_data.get("audio"),
            live=False,
        )
        body = message_frame(message)
        if (
            getattr(message, "crisis_alert", None) is not None
            and request.user.id == message.booking.client_id
        ):
            body["crisis_resources"] = {"hotlines": crisis_hotlines_for(user=request.user)}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MessageAudioView(APIView):
    """A voice note's audio, decrypted for one of the booking's two participants."""

    @extend_schema(responses={(200, "audio/*"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, seq: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        message = SessionMessage.objects.get(
            booking=booking, seq=seq, kind=SessionMessage.Kind.VOICE
        )
        response = HttpResponse(
            message_audio_read(message=message), content_type=message.audio_content_type
        )
        response["Cache-Control"] = "private, no-store"
        return response


class FeedbackView(APIView):
    """The client's feedback on a session, once, after it."""

    permission_classes = [IsClient]

    @extend_schema(
        request=serializers.FeedbackSerializer, responses={201: serializers.FeedbackSerializer}
    )
    def post(self, request, pk: int):
        data = serializers.FeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_submit(client=request.user, booking_id=pk, **data.validated_data)
        return Response(
            serializers.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED
        )


# --- calendar feeds -----------------------------------------------------------------------------


class IsParticipantRole(BasePermission):
    """Clients and counselors: the people who have sessions."""

    message = "Only clients and counselors have sessions."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_client or user.is_counselor))


def feed_state(feed: CalendarFeed | None) -> dict:
    return {
        "active": feed is not None,
        "created_at": feed.created_at if feed else None,
        "last_fetched_at": feed.last_fetched_at if feed else None,
    }


class CalendarFeedView(APIView):
    """The caller's own private calendar feed: GET its state, POST a new URL (shown once; the
    old URL stops working), DELETE revokes it."""

    permission_classes = [IsParticipantRole]

    @extend_schema(responses=serializers.CalendarFeedSerializer)
    def get(self, request):
        feed = calendar_feed_live(user=request.user)
        return Response(serializers.CalendarFeedSerializer(feed_state(feed)).data)

    @extend_schema(request=None, responses={201: serializers.CalendarFeedSerializer})
    def post(self, request):
        feed, token = calendar_feed_create(user=request.user)
        body = {**feed_state(feed), **feed_urls(request, token)}
        response = Response(
            serializers.CalendarFeedSerializer(body).data, status=status.HTTP_201_CREATED
        )
        response["Cache-Control"] = "private, no-store"  # the secret is in the body
        return response

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        calendar_feed_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarFeedThrottle(SimpleRateThrottle):
    """Per feed (the token's hash, never the token), whoever asks: calendar services fetch
    every feed from a few shared addresses, so an address would be the wrong key."""

    scope = "calendar_feed"
    # Calendars refresh every few minutes to hours; this leaves room for several devices.
    rate = "60/hour"

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": self.scope,
            "ident": token_hash(view.kwargs.get("token", "")),
        }


class CalendarFeedIcsView(APIView):
    """The public subscription URL `/calendar/<token>.ics`: no sign-in, the token is the
    credential. Revoked or unknown: 404. The user's sessions without topics or notes."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CalendarFeedThrottle]

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR}, exclude=True)
    def get(self, request, token: str):
        try:
            user = calendar_feed_open(token=token)
        except CalendarFeed.DoesNotExist:
            raise Http404 from None
        body = feed_icalendar(bookings=calendar_feed_bookings(user=user), viewer=user)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=0"
        response["Content-Disposition"] = 'inline; filename="pianke.ics"'
        response["X-Robots-Tag"] = "noindex"
        return response


# --- my counselors --------------------------------------------------------------------------------


class MyCounselorListView(generics.GenericAPIView):
    """The counselors the client has met, preferred first: last session, next free 30-minute
    slots, the preference, the notice opt-in and the history-sharing consent."""

    permission_classes = [IsClient]
    serializer_class = serializers.MyCounselorSerializer
    filterset_class = None
    queryset = CounselorProfile.objects.none()  # the list is built by the selector, not a query

    @extend_schema(responses=serializers.MyCounselorSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(my_counselors_for_client(client=request.user))
        return self.get_paginated_response(serializers.MyCounselorSerializer(page, many=True).data)


def _my_counselor_row(request, counselor_id: int):
    for row in my_counselors_for_client(client=request.user):
        if row.profile.pk == counselor_id:
            return row
    raise Http404


class MyCounselorPreferredView(APIView):
    """PUT marks a met counselor preferred (`notify_new_windows` opts in to notices of their
    new windows); DELETE unmarks. A counselor the client never met: 404."""

    permission_classes = [IsClient]

    @extend_schema(
        request=serializers.PreferredInputSerializer, responses=serializers.MyCounselorSerializer
    )
    def put(self, request, counselor_id: int):
        counselor = met_counselor_get(client=request.user, counselor_id=counselor_id)
        data = serializers.PreferredInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preferred_counselor_set(client=request.user, counselor=counselor, **data.validated_data)
        row = _my_counselor_row(request, counselor_id)
        return Response(serializers.MyCounselorSerializer(row).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, counselor_id: int):
        met_counselor_get(client=request.user, counselor_id=counselor_id)
        preferred_counselor_remove(client=request.user, counselor_id=counselor_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyCounselorHistoryShareView(APIView):
    """POST: the client lets this met counselor see their own earlier sessions with the
    client (dates, topics, their own private notes); DELETE withdraws at once."""

    permission_classes = [IsClient]

    @extend_schema(request=None, responses={201: serializers.HistoryShareSerializer})
    def post(self, request, counselor_id: int):
        counselor = met_counselor_get(client=request.user, counselor_id=counselor_id)
        share = history_share_grant(client=request.user, counselor=counselor)
        return Response(
            serializers.HistoryShareSerializer(
                {"shared": True, "granted_at": share.granted_at}
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, counselor_id: int):
        met_counselor_get(client=request.user, counselor_id=counselor_id)
        history_share_withdraw(client=request.user, counselor_id=counselor_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientHistoryView(APIView):
    """For the counselor of booking {id} only (anyone else: 404): their own earlier sessions
    with this client and their own notes, while the client shares their history; otherwise
    `{shared: false, sessions: []}`."""

    @extend_schema(responses=serializers.ClientHistorySerializer)
    def get(self, request, pk: int):
        booking = Booking.objects.only("pk", "client_id", "start").get(
            pk=pk, counselor_id=request.user.pk
        )
        history = client_history_for_counselor(
            counselor=request.user, client_id=booking.client_id, before=booking.start
        )
        response = Response(serializers.ClientHistorySerializer(history._asdict()).data)
        response["Cache-Control"] = "private, no-store"
        return response


# --- the toolkit -------------------------------------------------------------------------------


class ToolkitView(APIView):
    """The client's toolkit: each of their sessions that carries tools (the booked offering's
    items and what the counselor assigned), with the client's entries in them."""

    permission_classes = [IsClient]

    @extend_schema(responses=serializers.ToolkitSerializer)
    def get(self, request):
        sessions = toolkit.toolkit_for_client(client=request.user)
        return Response(serializers.ToolkitSerializer({"sessions": sessions}).data)


class ToolkitEntryListView(generics.ListAPIView):
    """The client's own entries, newest first; POST writes a new one (`share` shares it with
    the counselor of `booking`)."""

    permission_classes = [IsClient]
    serializer_class = serializers.ToolkitEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ToolkitEntry.objects.none()
        return toolkit.toolkit_entries_for_client(client=self.request.user)

    @extend_schema(
        request=serializers.ToolkitEntryInputSerializer,
        responses={201: serializers.ToolkitEntrySerializer},
    )
    def post(self, request):
        data = serializers.ToolkitEntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        entry = toolkit.toolkit_entry_create(
            client=request.user,
            item_id=fields["item"],
            booking_id=fields["booking"],
            answers=fields["answers"],
            share=fields["share"],
        )
        return Response(
            serializers.ToolkitEntrySerializer(entry).data, status=status.HTTP_201_CREATED
        )


class ToolkitEntryDetailView(APIView):
    """One of the client's entries: read, change (answers, share or unshare), delete."""

    permission_classes = [IsClient]

    @extend_schema(responses=serializers.ToolkitEntrySerializer)
    def get(self, request, pk: int):
        entry = toolkit.toolkit_entry_get_for_client(client=request.user, entry_id=pk)
        return Response(serializers.ToolkitEntrySerializer(entry).data)

    @extend_schema(
        request=serializers.ToolkitEntryUpdateSerializer,
        responses=serializers.ToolkitEntrySerializer,
    )
    def patch(self, request, pk: int):
        data = serializers.ToolkitEntryUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = toolkit.toolkit_entry_update(
            client=request.user, entry_id=pk, **data.validated_data
        )
        return Response(serializers.ToolkitEntrySerializer(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        toolkit.toolkit_entry_delete(client=request.user, entry_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BookingToolkitView(APIView):
    """A session's tools for one of its two participants: the items; the client's own entries,
    or for the counselor the entries the client shared with them."""

    permission_classes = [IsParticipantRole]

    @extend_schema(responses=serializers.BookingToolkitSerializer)
    def get(self, request, pk: int):
        booking = booking_get_for_participant(user=request.user, booking_id=pk)
        if booking.role_of(request.user) == Booking.Party.COUNSELOR:
            entries = toolkit.toolkit_entries_shared_with(counselor=request.user, booking_id=pk)
        else:
            entries = toolkit.toolkit_entries_for_client(client=request.user).filter(booking=pk)
        body = {"items": toolkit.toolkit_items_of_booking(booking=booking), "entries": entries}
        return Response(serializers.BookingToolkitSerializer(body).data)


class BookingAssignmentView(APIView):
    """The counselor gives the client of this session a toolkit item to try."""

    permission_classes = [IsCounselor]

    @extend_schema(
        request=serializers.AssignmentInputSerializer,
        responses={201: serializers.AssignmentSerializer},
    )
    def post(self, request, pk: int):
        data = serializers.AssignmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = toolkit.toolkit_assign(
            counselor=request.user,
            booking_id=pk,
            item_id=data.validated_data["item"],
            note=data.validated_data["note"],
        )
        return Response(
            serializers.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED
        )
