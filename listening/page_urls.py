"""Browser pages (server-rendered)."""

from django.urls import path

from listening import pages

urlpatterns = [
    path("counselor/", pages.dashboard, name="counselor-dashboard"),
    path("counselors/<int:counselor_id>/book/", pages.booking_new, name="booking-new"),
    path("bookings/", pages.booking_list, name="booking-list-page"),
    path(
        "bookings/<int:booking_id>/cancel/", pages.booking_cancel_page, name="booking-cancel-page"
    ),
    path(
        "bookings/<int:booking_id>/feedback/",
        pages.booking_feedback_page,
        name="booking-feedback-page",
    ),
]
