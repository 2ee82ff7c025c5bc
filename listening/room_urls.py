"""The session room's pages (server-rendered; the live part is the socket /ws/sessions/<id>/)."""

from django.urls import path
from django.views.decorators.cache import never_cache

from listening import pages, room_pages

urlpatterns = [
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
    # The client's feedback page after the session: the one feedback view (listening.pages),
    # also posted inline from my bookings. Never cached, as the room.
    path(
        "sessions/<int:booking_id>/feedback/",
        never_cache(pages.feedback),
        name="session-feedback",
    ),
]
