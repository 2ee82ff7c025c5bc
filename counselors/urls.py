from django.urls import path

from counselors import views

urlpatterns = [
    path("specialties/", views.SpecialtyListView.as_view(), name="specialty-list"),
    path("counselors/", views.CounselorListView.as_view(), name="counselor-list"),
    path("counselors/me/", views.CounselorMeView.as_view(), name="counselor-me"),
    path("counselors/me/credentials/", views.CredentialListView.as_view(), name="credential-list"),
    path("counselors/me/windows/", views.WindowListView.as_view(), name="window-list"),
    path("counselors/me/windows/<int:pk>/", views.WindowDetailView.as_view(), name="window-detail"),
    path("counselors/<int:pk>/", views.CounselorDetailView.as_view(), name="counselor-detail"),
    path(
        "counselors/<int:pk>/verify/", views.CounselorVerifyView.as_view(), name="counselor-verify"
    ),
    path("counselors/<int:pk>/slots/", views.SlotListView.as_view(), name="counselor-slots"),
]
