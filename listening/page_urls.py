"""Browser pages (server-rendered)."""

from django.urls import path
from django.views.decorators.http import require_POST

from core.pages import client_required
from listening import pages

urlpatterns = [
    path("counselor/", pages.dashboard, name="counselor-dashboard"),
    path("counselors/<int:counselor_id>/book/", pages.booking_new, name="booking-new"),
    path("bookings/", pages.booking_list, name="booking-list-page"),
    path(
        "bookings/<int:booking_id>/cancel/", pages.booking_cancel_page, name="booking-cancel-page"
    ),
    # The feedback form inline on my bookings: a client's POST, like the page's other actions
    # (the same view as the session's feedback page, session-feedback in room_urls).
    path(
        "bookings/<int:booking_id>/feedback/",
        client_required(require_POST(pages.feedback)),
        {"inline": True},
        name="booking-feedback-page",
    ),
]
