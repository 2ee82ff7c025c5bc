"""URLs of `insights`, in one namespace: the browser pages as `insights:<name>`, the API (under
/api/v1/) as `insights:api:<name>`."""

from django.urls import include, path

app_name = "insights"

api_urlpatterns: list = []

page_urlpatterns: list = []

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
