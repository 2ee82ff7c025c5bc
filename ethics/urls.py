"""URLs of `ethics`, in one namespace: the browser pages as `ethics:<name>`, the API (under
/api/v1/) as `ethics:api:<name>`."""

from django.urls import include, path

from ethics import pages, views

app_name = "ethics"

api_urlpatterns = [
    path("crisis/alerts/", views.CrisisAlertListView.as_view(), name="crisis-alert-list"),
    path(
        "crisis/alerts/<int:pk>/acknowledge/",
        views.CrisisAlertAcknowledgeView.as_view(),
        name="crisis-alert-ack",
    ),
    path(
        "crisis/alerts/<int:pk>/resolve/",
        views.CrisisAlertResolveView.as_view(),
        name="crisis-alert-resolve",
    ),
    path("crisis/raise/", views.CrisisRaiseView.as_view(), name="crisis-raise"),
    path("resources/", views.ResourceListView.as_view(), name="resource-list"),
    path("bookings/<int:pk>/risk-check/", views.RiskCheckView.as_view(), name="risk-check"),
]

page_urlpatterns = [
    path("help/", pages.help_page, name="help"),
    path("oncall/", pages.oncall, name="oncall"),
    path("oncall/queue/", pages.oncall_queue, name="oncall-queue"),
    path(
        "oncall/alerts/<int:alert_id>/acknowledge/",
        pages.alert_acknowledge_view,
        name="oncall-acknowledge",
    ),
    path("oncall/alerts/<int:alert_id>/resolve/", pages.alert_resolve_view, name="oncall-resolve"),
    path("staff/resources/", pages.resource_list, name="staff-resources"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
