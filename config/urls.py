"""The composition root's URLs: each app's pages and API (one namespace per app, see its
urls.py), the health check, the admin and the API schema."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    # Browser pages (server-rendered templates) and the API under /api/v1/, on the same services.
    path("", include("accounts.urls")),
    path("", include("ethics.urls")),
    path("", include("counselors.urls")),
    path("", include("organisations.urls")),
    path("", include("billing.urls")),
    path("", include("packages.urls")),
    path("", include("listening.urls")),
    path("", include("groups.urls")),
    path("", include("matching.urls")),
    path("", include("insights.urls")),
    path("", include("oversight.urls")),
    # For load balancers (core/health.py): the database and Redis; migrations applied.
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (core.security).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
]
