"""URLs of `listening`, in one namespace: the browser pages as `listening:<name>`, the API (under
/api/v1/) as `listening:api:<name>`."""

from django.urls import include, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.pages import client_required
from listening import pages, room_pages, views

app_name = "listening"

api_urlpatterns = [
    path("bookings/", views.BookingListView.as_view(), name="booking-list"),
    path("bookings/<int:pk>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<int:pk>/cancel/", views.BookingCancelView.as_view(), name="booking-cancel"),
    path(
        "bookings/<int:pk>/reschedule/",
        views.BookingRescheduleView.as_view(),
        name="booking-reschedule",
    ),
    path(
        "bookings/<int:pk>/calendar.ics",
        views.BookingCalendarView.as_view(),
        name="booking-calendar",
    ),
    path("bookings/<int:pk>/messages/", views.MessageListView.as_view(), name="booking-messages"),
    path(
        "bookings/<int:pk>/messages/<int:seq>/audio/",
        views.MessageAudioView.as_view(),
        name="message-audio",
    ),
    path("bookings/<int:pk>/feedback/", views.FeedbackView.as_view(), name="booking-feedback"),
    path(
        "bookings/<int:pk>/client-history/",
        views.ClientHistoryView.as_view(),
        name="booking-client-history",
    ),
    path("bookings/<int:pk>/toolkit/", views.BookingToolkitView.as_view(), name="booking-toolkit"),
    path(
        "bookings/<int:pk>/assignments/",
        views.BookingAssignmentView.as_view(),
        name="booking-assignments",
    ),
    path("toolkit/", views.ToolkitView.as_view(), name="toolkit"),
    path("toolkit/entries/", views.ToolkitEntryListView.as_view(), name="toolkit-entry-list"),
    path(
        "toolkit/entries/<int:pk>/",
        views.ToolkitEntryDetailView.as_view(),
        name="toolkit-entry-detail",
    ),
    path("calendar-feed/", views.CalendarFeedView.as_view(), name="calendar-feed"),
    path("my-counselors/", views.MyCounselorListView.as_view(), name="my-counselors"),
    path(
        "my-counselors/<int:counselor_id>/preferred/",
        views.MyCounselorPreferredView.as_view(),
        name="my-counselor-preferred",
    ),
    path(
        "my-counselors/<int:counselor_id>/history-share/",
        views.MyCounselorHistoryShareView.as_view(),
        name="my-counselor-history-share",
    ),
]

page_urlpatterns = [
    # The private subscription URL: no sign-in, the token is the credential (listening.feeds).
    path(
        "calendar/<slug:token>.ics", views.CalendarFeedIcsView.as_view(), name="calendar-feed-ics"
    ),
    path("calendar-feed/", pages.calendar_feed_page, name="calendar-feed"),
    path("my-counselors/", pages.my_counselors, name="my-counselors"),
    path(
        "my-counselors/<int:counselor_id>/preferred/",
        pages.my_counselor_preferred,
        name="my-counselor-preferred",
    ),
    path(
        "my-counselors/<int:counselor_id>/history-share/",
        pages.my_counselor_history_share,
        name="my-counselor-history-share",
    ),
    path("counselor/", pages.dashboard, name="counselor-dashboard"),
    path("counselors/<int:counselor_id>/book/", pages.booking_new, name="booking-new"),
    path("bookings/", pages.booking_list, name="booking-list"),
    path("bookings/<int:booking_id>/cancel/", pages.booking_cancel_page, name="booking-cancel"),
    path(
        "bookings/<int:booking_id>/reschedule/",
        pages.booking_reschedule_page,
        name="booking-reschedule",
    ),
    # The feedback form inline on my bookings: a client's POST, like the page's other actions
    # (the same view as the session's feedback page, session-feedback below).
    path(
        "bookings/<int:booking_id>/feedback/",
        client_required(require_POST(pages.feedback)),
        {"inline": True},
        name="booking-feedback",
    ),
    path("sessions/<int:booking_id>/", room_pages.room, name="session-room"),
    path("sessions/<int:booking_id>/thread/", room_pages.thread, name="session-thread"),
    path(
        "sessions/<int:booking_id>/messages/", room_pages.message_post, name="session-message-post"
    ),
    path("sessions/<int:booking_id>/notes/", room_pages.note_save, name="session-note"),
    path(
        "sessions/<int:booking_id>/crisis/",
        room_pages.crisis_raise_view,
        name="session-crisis-raise",
    ),
    path("sessions/<int:booking_id>/refer/", room_pages.refer, name="session-refer"),
    path("sessions/<int:booking_id>/assign/", room_pages.assign, name="session-assign"),
    path("toolkit/", pages.toolkit_page, name="toolkit"),
    path("toolkit/items/<int:item_id>/audio/", pages.toolkit_audio, name="toolkit-audio"),
    path("toolkit/entries/new/", pages.toolkit_entry_new, name="toolkit-entry-new"),
    path(
        "toolkit/entries/<int:entry_id>/share/",
        pages.toolkit_entry_share,
        name="toolkit-entry-share",
    ),
    path(
        "toolkit/entries/<int:entry_id>/delete/",
        pages.toolkit_entry_remove,
        name="toolkit-entry-delete",
    ),
    # The client's feedback page after the session: the one feedback view (listening.pages),
    # also posted inline from my bookings. Never cached, as the room.
    path(
        "sessions/<int:booking_id>/feedback/",
        never_cache(pages.feedback),
        name="session-feedback",
    ),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
