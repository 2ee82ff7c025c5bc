from django.urls import path

from listening import views

urlpatterns = [
    path("bookings/", views.BookingListView.as_view(), name="booking-list"),
    path("bookings/<int:pk>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<int:pk>/cancel/", views.BookingCancelView.as_view(), name="booking-cancel"),
    path(
        "bookings/<int:pk>/calendar.ics",
        views.BookingCalendarView.as_view(),
        name="booking-calendar",
    ),
    path("bookings/<int:pk>/messages/", views.MessageListView.as_view(), name="booking-messages"),
    path(
        "bookings/<int:pk>/messages/<int:seq>/audio/",
        views.MessageAudioView.as_view(),
        name="message-audio",
    ),
    path("bookings/<int:pk>/feedback/", views.FeedbackView.as_view(), name="booking-feedback"),
]
