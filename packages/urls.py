"""URLs of `packages`, in one namespace: the browser pages as `packages:<name>`, the API
(under /api/v1/) as `packages:api:<name>`."""

from django.urls import include, path

from packages import pages, views

app_name = "packages"

api_urlpatterns = [
    path("packages/", views.PackageListView.as_view(), name="package-list"),
    path("packages/purchases/", views.PurchaseListView.as_view(), name="purchase-list"),
    path("packages/<int:pk>/", views.PackageDetailView.as_view(), name="package-detail"),
    path("packages/<int:pk>/buy/", views.PackageBuyView.as_view(), name="package-buy"),
    path(
        "packages/<int:pk>/withdraw/", views.PackageWithdrawView.as_view(), name="package-withdraw"
    ),
]

page_urlpatterns = [
    path("packages/", pages.package_list, name="package-list"),
    path("packages/mine/", pages.purchase_list, name="purchase-list"),
    path("packages/new/", pages.package_new, name="package-new"),
    path("packages/<int:package_id>/buy/", pages.package_buy, name="package-buy"),
]

urlpatterns = [
    path("api/v1/", include((api_urlpatterns, "api"))),
    *page_urlpatterns,
]
