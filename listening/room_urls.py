"""The session room's pages (server-rendered; the live part is the socket /ws/sessions/<id>/)."""

from django.urls import path

from listening import room_pages

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
    path("sessions/<int:booking_id>/feedback/", room_pages.feedback, name="session-feedback"),
]
