"""URLs of `groups`, in one namespace: the browser pages as `groups:<name>`, the API (under
/api/v1/) as `groups:api:<name>`."""

from django.urls import include, path

from groups import pages, views

app_name = "groups"

api_urlpatterns = [
    path("group-sessions/", views.GroupSessionListView.as_view(), name="group-session-list"),
    path(
        "group-sessions/<int:pk>/",
        views.GroupSessionDetailView.as_view(),
        name="group-session-detail",
    ),
    path("group-sessions/<int:pk>/join/", views.GroupJoinView.as_view(), name="group-join"),
    path("group-sessions/<int:pk>/leave/", views.GroupLeaveView.as_view(), name="group-leave"),
    path("group-sessions/<int:pk>/cancel/", views.GroupCancelView.as_view(), name="group-cancel"),
]

page_urlpatterns = [
    path("groups/", pages.group_list, name="group-list"),
    path("groups/new/", pages.group_new, name="group-new"),
    path("groups/<int:group_id>/", pages.group_detail, name="group-detail"),
    path("groups/<int:group_id>/join/", pages.group_join, name="group-join"),
    path("groups/<int:group_id>/leave/", pages.group_leave, name="group-leave"),
    path("groups/<int:group_id>/cancel/", pages.group_cancel, name="group-cancel"),
    path("groups/<int:group_id>/room/", pages.group_room, name="group-room"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
