"""URLs of `groups`, in one namespace: the browser pages as `groups:<name>`, the API (under
/api/v1/) as `groups:api:<name>`."""

from django.urls import include, path

app_name = "groups"

api_urlpatterns: list = []

page_urlpatterns: list = []

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
