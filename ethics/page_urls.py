"""Browser pages (server-rendered): the on-call queue, the staff review of ethics flags, the
resource directory for staff, and a client's referrals and toolkits."""

from django.urls import path

from ethics import pages

urlpatterns = [
    path("oncall/", pages.oncall, name="oncall"),
    path("oncall/queue/", pages.oncall_queue, name="oncall-queue"),
    path(
        "oncall/alerts/<int:alert_id>/acknowledge/",
        pages.alert_acknowledge_view,
        name="oncall-acknowledge",
    ),
    path("oncall/alerts/<int:alert_id>/resolve/", pages.alert_resolve_view, name="oncall-resolve"),
    path("staff/flags/", pages.flag_list, name="staff-flags"),
    path("staff/flags/<int:flag_id>/", pages.flag_detail, name="staff-flag"),
    path("staff/flags/<int:flag_id>/assign/", pages.flag_assign, name="staff-flag-assign"),
    path("staff/flags/<int:flag_id>/notes/", pages.flag_note, name="staff-flag-note"),
    path("staff/flags/<int:flag_id>/resolve/", pages.flag_resolve, name="staff-flag-resolve"),
    path("staff/flags/<int:flag_id>/content/", pages.flag_content, name="staff-flag-content"),
    path("staff/resources/", pages.resource_list, name="staff-resources"),
    path("referrals/", pages.referrals, name="referrals"),
    path(
        "referrals/<int:referral_id>/accept/",
        pages.referral_answer,
        {"answer": "accept"},
        name="referral-accept-page",
    ),
    path(
        "referrals/<int:referral_id>/decline/",
        pages.referral_answer,
        {"answer": "decline"},
        name="referral-decline-page",
    ),
]
