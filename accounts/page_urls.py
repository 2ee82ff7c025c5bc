"""Browser pages (server-rendered)."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from accounts import pages

urlpatterns = [
    path("signup/", pages.signup, name="signup"),
    path("login/", pages.SignInView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="home"), name="logout"),
    path("start/", pages.start, name="start"),
    path("language/", pages.language_switch, name="language-switch"),
    path("consent/", pages.consent, name="consent-page"),
    path("intake/", pages.intake, name="intake-page"),
    path("intake/result/", pages.intake_result, name="intake-result"),
    path("account/", pages.account, name="account"),
    path("account/export/", pages.account_export, name="account-export"),
    path("account/delete/", pages.account_delete, name="account-delete"),
    path(
        "account/consent/withdraw/", pages.account_consent_withdraw, name="account-consent-withdraw"
    ),
]
