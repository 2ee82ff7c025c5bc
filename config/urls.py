from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("counselors.urls")),
    path("", include("listening.urls")),
    path("", include("matching.urls")),
    path("", include("ethics.urls")),
    path("", include("oversight.urls")),
]


def healthz(request):
    return JsonResponse({"status": "ok"})


# Browser pages: server-rendered templates on the same services as the API.
pages = [
    path("", include("accounts.page_urls")),
    path("", include("counselors.page_urls")),
    path("", include("counselors.staff_page_urls")),
    path("", include("listening.page_urls")),
    path("", include("listening.room_urls")),
    path("", include("matching.page_urls")),
    path("", include("ethics.page_urls")),
    path("", include("oversight.page_urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    *pages,
    path("healthz/", healthz),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
]
