"""URLs of `billing`, in one namespace: the browser pages as `billing:<name>`, the API (under
/api/v1/) as `billing:api:<name>`."""

from django.urls import include, path

from billing import pages, views

app_name = "billing"

api_urlpatterns = [
    path("earnings/", views.EarningsView.as_view(), name="earnings"),
    path(
        "earnings/statement.csv", views.EarningsStatementView.as_view(), name="earnings-statement"
    ),
    path("earnings/platform/", views.PlatformEarningsView.as_view(), name="platform-earnings"),
]

page_urlpatterns = [
    path("earnings/", pages.earnings, name="earnings"),
    path("staff/earnings/", pages.platform, name="platform-earnings"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
