"""Browser pages for talk now (client) and talk-now duty (counselor)."""

from django.urls import path

from matching import pages

urlpatterns = [
    path("talk-now/", pages.talk_now, name="talk-now"),
    path("talk-now/<int:request_id>/", pages.talk_now_status, name="talk-now-status"),
    path("talk-now/<int:request_id>/cancel/", pages.talk_now_cancel, name="talk-now-cancel"),
    path("counselor/duty/", pages.duty_toggle, name="counselor-duty"),
    path(
        "counselor/offers/<int:offer_id>/<str:action>/",
        pages.offer_respond,
        name="counselor-offer-respond",
    ),
]
