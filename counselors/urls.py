"""URLs of `counselors`, in one namespace: the browser pages as `counselors:<name>`, the API (under
/api/v1/) as `counselors:api:<name>`."""

from django.urls import include, path

from counselors import pages, staff_pages, views

app_name = "counselors"

api_urlpatterns = [
    path("specialties/", views.SpecialtyListView.as_view(), name="specialty-list"),
    path("counselors/", views.CounselorListView.as_view(), name="counselor-list"),
    path("counselors/me/", views.CounselorMeView.as_view(), name="counselor-me"),
    path("counselors/me/credentials/", views.CredentialListView.as_view(), name="credential-list"),
    path("counselors/me/windows/", views.WindowListView.as_view(), name="window-list"),
    path("counselors/me/windows/<int:pk>/", views.WindowDetailView.as_view(), name="window-detail"),
    path("counselors/me/time-off/", views.TimeOffListView.as_view(), name="time-off-list"),
    path(
        "counselors/me/time-off/<int:pk>/",
        views.TimeOffDetailView.as_view(),
        name="time-off-detail",
    ),
    path("counselors/me/offerings/", views.OwnOfferingListView.as_view(), name="own-offering-list"),
    path(
        "counselors/me/offerings/<int:pk>/",
        views.OwnOfferingDetailView.as_view(),
        name="own-offering-detail",
    ),
    path(
        "counselors/me/toolkit-items/",
        views.OwnToolkitItemListView.as_view(),
        name="own-toolkit-item-list",
    ),
    path(
        "counselors/me/toolkit-items/<int:pk>/",
        views.OwnToolkitItemDetailView.as_view(),
        name="own-toolkit-item-detail",
    ),
    path("counselors/<int:pk>/", views.CounselorDetailView.as_view(), name="counselor-detail"),
    path(
        "counselors/<int:pk>/verify/", views.CounselorVerifyView.as_view(), name="counselor-verify"
    ),
    path("counselors/<int:pk>/slots/", views.SlotListView.as_view(), name="counselor-slots"),
    path("offerings/", views.OfferingListView.as_view(), name="offering-list"),
    path(
        "offerings/<int:pk>/unpublish/",
        views.OfferingUnpublishView.as_view(),
        name="offering-unpublish",
    ),
    path("toolkits/", views.ToolkitListView.as_view(), name="toolkit-list"),
    path(
        "toolkits/<int:pk>/audio/", views.ToolkitItemAudioView.as_view(), name="toolkit-item-audio"
    ),
]

page_urlpatterns = [
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
    path("counselor/availability/time-off/", pages.time_off_create, name="counselor-time-off-add"),
    path(
        "counselor/availability/time-off/<int:time_off_id>/delete/",
        pages.time_off_delete,
        name="counselor-time-off-delete",
    ),
    path("counselor/offerings/", pages.offerings, name="counselor-offerings"),
    path("counselor/offerings/new/", pages.offering_create_page, name="counselor-offering-create"),
    path(
        "counselor/offerings/<int:offering_id>/",
        pages.offering_edit_page,
        name="counselor-offering-edit",
    ),
    path(
        "counselor/offerings/<int:offering_id>/withdraw/",
        pages.offering_withdraw_page,
        name="counselor-offering-withdraw",
    ),
    path("counselor/toolkit/", pages.toolkit, name="counselor-toolkit"),
    path(
        "counselor/toolkit/new/",
        pages.toolkit_item_create_page,
        name="counselor-toolkit-item-create",
    ),
    path(
        "counselor/toolkit/<int:toolkit_item_id>/",
        pages.toolkit_item_edit_page,
        name="counselor-toolkit-item-edit",
    ),
    path(
        "counselor/toolkit/<int:toolkit_item_id>/delete/",
        pages.toolkit_item_delete_page,
        name="counselor-toolkit-item-delete",
    ),
    path("staff/offerings/", staff_pages.staff_offerings, name="staff-offerings"),
    path(
        "staff/offerings/<int:offering_id>/unpublish/",
        staff_pages.staff_offering_unpublish,
        name="staff-offering-unpublish",
    ),
    path("staff/verification/", staff_pages.verification, name="staff-verification"),
    path("staff/verification/<int:counselor_id>/", staff_pages.verify, name="staff-verify"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
