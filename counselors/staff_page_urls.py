"""Staff pages for counselors (server-rendered): the credential verification queue."""

from django.urls import path

from counselors import staff_pages

urlpatterns = [
    path("staff/verification/", staff_pages.verification, name="staff-verification"),
    path("staff/verification/<int:counselor_id>/", staff_pages.verify, name="staff-verify"),
]
