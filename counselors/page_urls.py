"""Browser pages (server-rendered)."""

from django.urls import path

from counselors import pages

urlpatterns = [
    path("counselors/", pages.directory, name="counselor-directory"),
    path("counselors/<int:counselor_id>/", pages.profile, name="counselor-profile"),
    path("counselor/profile/", pages.profile_edit, name="counselor-profile-edit"),
    path(
        "counselor/profile/credentials/",
        pages.credential_create,
        name="counselor-credential-create",
    ),
    path("counselor/availability/", pages.availability, name="counselor-availability"),
    path(
        "counselor/availability/weekly/", pages.window_weekly_create, name="counselor-window-weekly"
    ),
    path(
        "counselor/availability/one-off/",
        pages.window_one_off_create,
        name="counselor-window-one-off",
    ),
    path(
        "counselor/availability/windows/<int:window_id>/delete/",
        pages.window_remove,
        name="counselor-window-delete",
    ),
]
