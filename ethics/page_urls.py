"""Browser pages (server-rendered): the on-call queue, the resource directory for staff."""

from django.urls import path

from ethics import pages

urlpatterns = [
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
