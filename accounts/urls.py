"""URLs of `accounts`, in one namespace: the browser pages as `accounts:<name>`, the API (under
/api/v1/) as `accounts:api:<name>`."""

from django.contrib.auth.views import LogoutView
from django.urls import include, path

from accounts import pages, views

app_name = "accounts"

api_urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path(
        "me/notifications/",
        views.NotificationPreferenceView.as_view(),
        name="notification-preferences",
    ),
    path("notices/", views.NoticeListView.as_view(), name="notice-list"),
    path("notices/read-all/", views.NoticesReadAllView.as_view(), name="notices-read-all"),
    path("notices/<int:pk>/read/", views.NoticeReadView.as_view(), name="notice-read"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("consent/withdraw/", views.ConsentWithdrawView.as_view(), name="consent-withdraw"),
    path("intake/", views.IntakeView.as_view(), name="intake"),
]

page_urlpatterns = [
    path("signup/", pages.signup, name="signup"),
    path("login/", pages.SignInView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="home"), name="logout"),
    path("start/", pages.start, name="start"),
    path("language/", pages.language_switch, name="language-switch"),
    path("consent/", pages.consent, name="consent"),
    path("intake/", pages.intake, name="intake"),
    path("intake/result/", pages.intake_result, name="intake-result"),
    path("account/", pages.account, name="account"),
    path("account/notifications/", pages.account_notifications, name="account-notifications"),
    path("notices/", pages.notices, name="notices"),
    path("notices/read-all/", pages.notices_read_all, name="notices-read-all"),
    path("notices/<int:notice_id>/read/", pages.notice_read, name="notice-read"),
    # The one-click unsubscribe of reminder e-mails (RFC 8058): no sign-in, the token is the key.
    path("unsubscribe/<str:token>/", pages.unsubscribe, name="unsubscribe"),
    path("account/export/", pages.account_export, name="account-export"),
    path("account/delete/", pages.account_delete, name="account-delete"),
    path(
        "account/consent/withdraw/", pages.account_consent_withdraw, name="account-consent-withdraw"
    ),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
