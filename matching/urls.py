"""URLs of `matching`, in one namespace: the browser pages as `matching:<name>`, the API (under
/api/v1/) as `matching:api:<name>`."""

from django.urls import include, path

from matching import pages, staff_pages, views

app_name = "matching"

api_urlpatterns = [
    path("match-requests/", views.MatchRequestListView.as_view(), name="match-request-list"),
    path(
        "match-requests/<int:pk>/",
        views.MatchRequestDetailView.as_view(),
        name="match-request-detail",
    ),
    path(
        "match-requests/<int:pk>/cancel/",
        views.MatchRequestCancelView.as_view(),
        name="match-request-cancel",
    ),
    path("counselors/me/presence/", views.PresenceView.as_view(), name="counselor-presence"),
    path(
        "counselors/me/reserve-pool/",
        views.ReservePoolView.as_view(),
        name="counselor-reserve-pool",
    ),
    path("talk-now/continuity/", views.ContinuityView.as_view(), name="talk-now-continuity"),
    path("surges/", views.SurgeListView.as_view(), name="surge-list"),
    path("surges/<int:pk>/", views.SurgeDetailView.as_view(), name="surge-detail"),
    path("surges/<int:pk>/end/", views.SurgeEndView.as_view(), name="surge-end"),
    path("offers/", views.OfferListView.as_view(), name="offer-list"),
    path("offers/<int:pk>/accept/", views.OfferAcceptView.as_view(), name="offer-accept"),
    path("offers/<int:pk>/decline/", views.OfferDeclineView.as_view(), name="offer-decline"),
]

page_urlpatterns = [
    path("talk-now/", pages.talk_now, name="talk-now"),
    path("talk-now/<int:request_id>/", pages.talk_now_status, name="talk-now-status"),
    path("talk-now/<int:request_id>/cancel/", pages.talk_now_cancel, name="talk-now-cancel"),
    path("counselor/duty/", pages.duty_toggle, name="counselor-duty"),
    path("counselor/reserve-pool/", pages.reserve_pool_toggle, name="counselor-reserve-pool"),
    path("staff/surges/", staff_pages.surges, name="staff-surges"),
    path("staff/surges/<int:surge_id>/", staff_pages.surge_detail, name="staff-surge-detail"),
    path("staff/surges/<int:surge_id>/end/", staff_pages.surge_end_page, name="staff-surge-end"),
    path(
        "counselor/offers/<int:offer_id>/<str:action>/",
        pages.offer_respond,
        name="counselor-offer-respond",
    ),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
