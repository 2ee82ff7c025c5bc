"""URLs of `insights`, in one namespace: the browser pages as `insights:<name>`, the API (under
/api/v1/) as `insights:api:<name>`."""

from django.urls import include, path

from insights import pages, views

app_name = "insights"

api_urlpatterns = [
    path("insights/", views.InsightsView.as_view(), name="staff-insights"),
    path(
        "counselors/me/outcomes/",
        views.CounselorOutcomesView.as_view(),
        name="counselor-outcomes",
    ),
]

page_urlpatterns = [
    path("staff/insights/", pages.insights, name="staff-insights"),
    path(
        "staff/insights/export/<str:table>.csv", pages.insights_export, name="staff-insights-export"
    ),
    path("counselor/outcomes/", pages.outcomes, name="counselor-outcomes"),
    path(
        "counselor/outcomes/export/<str:table>.csv",
        pages.outcomes_export,
        name="counselor-outcomes-export",
    ),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
