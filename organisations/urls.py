"""URLs of `organisations`, in one namespace: the browser pages as `organisations:<name>`, the API (under
/api/v1/) as `organisations:api:<name>`."""

from django.urls import include, path

from organisations import pages, views

app_name = "organisations"

api_urlpatterns: list = [
    path("organisations/join/", views.JoinView.as_view(), name="join"),
    path("organisations/email/", views.EmailVerifyView.as_view(), name="email-verify"),
    path("organisations/email/confirm/", views.EmailConfirmView.as_view(), name="email-confirm"),
    path("organisations/me/", views.MyOrganisationView.as_view(), name="mine"),
]

page_urlpatterns: list = [
    path("organisations/join/", pages.join, name="join"),
    path("organisations/email/confirm/", pages.email_confirm, name="email-confirm"),
    path("organisations/mine/", pages.mine, name="mine"),
    path("organisations/manage/", pages.manage, name="manage"),
    path("staff/organisations/", pages.staff_organisations, name="staff-organisations"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
