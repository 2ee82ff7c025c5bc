from django.urls import path

from oversight import views

urlpatterns = [
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
