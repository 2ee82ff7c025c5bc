from django.urls import path

from matching import views

urlpatterns = [
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
    path("offers/", views.OfferListView.as_view(), name="offer-list"),
    path("offers/<int:pk>/accept/", views.OfferAcceptView.as_view(), name="offer-accept"),
    path("offers/<int:pk>/decline/", views.OfferDeclineView.as_view(), name="offer-decline"),
]
