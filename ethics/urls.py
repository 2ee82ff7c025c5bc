from django.urls import path

from ethics import views

urlpatterns = [
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
]
