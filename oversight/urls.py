"""URLs of `oversight`, in one namespace: the browser pages as `oversight:<name>`, the API (under
/api/v1/) as `oversight:api:<name>`."""

from django.urls import include, path

from oversight import pages, views

app_name = "oversight"

api_urlpatterns = [
    path("ethics/reports/", views.ConcernReportView.as_view(), name="ethics-report"),
    # Referrals, complaints and the staff review of ethics flags.
    path("referrals/", views.ReferralListCreateView.as_view(), name="referral-list"),
    path("referrals/<int:pk>/accept/", views.ReferralAcceptView.as_view(), name="referral-accept"),
    path(
        "referrals/<int:pk>/decline/", views.ReferralDeclineView.as_view(), name="referral-decline"
    ),
    path("ethics/complaints/", views.ComplaintCreateView.as_view(), name="complaint-create"),
    path("ethics/flags/", views.FlagListView.as_view(), name="flag-list"),
    path("ethics/flags/mine/", views.FlagMineView.as_view(), name="flag-mine"),
    path("ethics/flags/<int:pk>/", views.FlagDetailView.as_view(), name="flag-detail"),
    path("ethics/flags/<int:pk>/assign/", views.FlagAssignView.as_view(), name="flag-assign"),
    path("ethics/flags/<int:pk>/resolve/", views.FlagResolveView.as_view(), name="flag-resolve"),
    path(
        "ethics/flags/<int:pk>/notes/", views.FlagNoteCreateView.as_view(), name="flag-note-create"
    ),
    path("ethics/flags/<int:pk>/content/", views.FlagContentView.as_view(), name="flag-content"),
]

page_urlpatterns = [
    path("staff/flags/", pages.flag_list, name="staff-flags"),
    path("staff/flags/<int:flag_id>/", pages.flag_detail, name="staff-flag"),
    path("staff/flags/<int:flag_id>/assign/", pages.flag_assign, name="staff-flag-assign"),
    path("staff/flags/<int:flag_id>/notes/", pages.flag_note, name="staff-flag-note"),
    path("staff/flags/<int:flag_id>/resolve/", pages.flag_resolve, name="staff-flag-resolve"),
    path("staff/flags/<int:flag_id>/content/", pages.flag_content, name="staff-flag-content"),
    path("referrals/", pages.referrals, name="referrals"),
    path(
        "referrals/<int:referral_id>/accept/",
        pages.referral_answer,
        {"answer": "accept"},
        name="referral-accept",
    ),
    path(
        "referrals/<int:referral_id>/decline/",
        pages.referral_answer,
        {"answer": "decline"},
        name="referral-decline",
    ),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
