"""The packages API: what is on offer, defining one, buying one, a client's purchases.
Thin: input serializer, service, output serializer; domain errors map in core.exceptions."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient
from packages import serializers
from packages.models import Package, PackagePurchase
from packages.selectors import (
    package_list_for_owner,
    package_list_published,
    purchase_list_for_client,
)
from packages.services import package_buy, package_create, package_withdraw


class IsCounselorOrStaff(BasePermission):
    message = "Only counselors and staff define packages."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_counselor or user.is_staff_member))


class PackageListView(generics.ListAPIView):
    """GET (anyone): published packages, optionally `?counselor=` one counselor's; `?mine=1`
    for a counselor (or staff) lists the ones they defined, every status. POST: a counselor
    defines a package of theirs, staff a platform package."""

    serializer_class = serializers.PackageSerializer

    def get_permissions(self):
        return [IsCounselorOrStaff()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Package.objects.none()
        params = self.request.query_params
        if params.get("mine") and self.request.user.is_authenticated:
            return package_list_for_owner(user=self.request.user)
        counselor = params.get("counselor")
        if counselor is not None and not counselor.isdigit():
            raise ValidationError({"counselor": "A counselor id is a whole number."})
        return package_list_published(counselor_id=int(counselor) if counselor else None)

    @extend_schema(
        parameters=[OpenApiParameter("counselor", int), OpenApiParameter("mine", bool)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=serializers.PackageInputSerializer, responses={201: serializers.PackageSerializer}
    )
    def post(self, request):
        data = serializers.PackageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        package = package_create(user=request.user, **data.validated_data)
        return Response(serializers.PackageSerializer(package).data, status=status.HTTP_201_CREATED)


class PackageDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=serializers.PackageSerializer)
    def get(self, request, pk: int):
        return Response(serializers.PackageSerializer(package_list_published().get(pk=pk)).data)


class PackageWithdrawView(APIView):
    permission_classes = [IsCounselorOrStaff]

    @extend_schema(request=None, responses=serializers.PackageSerializer)
    def post(self, request, pk: int):
        package = package_withdraw(user=request.user, package_id=pk)
        return Response(serializers.PackageSerializer(package).data)


class PackageBuyView(APIView):
    """A client buys a package once (201 with the purchase); then `bookings/` takes
    `package` (the purchase id) to book each session against it."""

    permission_classes = [IsClient]

    @extend_schema(request=None, responses={201: serializers.PurchaseSerializer})
    def post(self, request, pk: int):
        package_list_published().get(pk=pk)  # 404 for one not on offer (or withdrawn)
        purchase = package_buy(client=request.user, package_id=pk)
        return Response(
            serializers.PurchaseSerializer(purchase).data, status=status.HTTP_201_CREATED
        )


class PurchaseListView(generics.ListAPIView):
    """A client's own purchases, newest first, with the sessions left."""

    permission_classes = [IsClient]
    serializer_class = serializers.PurchaseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PackagePurchase.objects.none()
        return purchase_list_for_client(user=self.request.user)
