from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("consent/withdraw/", views.ConsentWithdrawView.as_view(), name="consent-withdraw"),
    path("intake/", views.IntakeView.as_view(), name="intake"),
]
