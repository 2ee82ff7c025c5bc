"""The group sessions API: list and open groups, take and give up a seat. Thin: input
serializer, service, output serializer; domain errors map to HTTP in core.exceptions."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsClient, IsCounselor
from groups import serializers
from groups.models import GroupSession
from groups.selectors import group_get_for_viewer, group_list_upcoming, group_seats_of
from groups.services import group_cancel, group_create, group_join, group_leave


def _render(request, group, *, code=status.HTTP_200_OK) -> Response:
    seats = group_seats_of(user=request.user)
    data = serializers.GroupSessionSerializer(group, context={"my_seats": seats}).data
    return Response(data, status=code)


class GroupSessionListView(generics.ListAPIView):
    """GET: groups the caller may join or holds a seat in (a counselor: their own; staff:
    every scheduled one), paginated. POST: a counselor opens a group."""

    serializer_class = serializers.GroupSessionSerializer

    def get_permissions(self):
        return [IsCounselor()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return GroupSession.objects.none()
        return group_list_upcoming(user=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["my_seats"] = group_seats_of(user=self.request.user)
        return context

    @extend_schema(
        request=serializers.GroupCreateInputSerializer,
        responses={201: serializers.GroupSessionSerializer},
    )
    def post(self, request):
        data = serializers.GroupCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_create(counselor_user=request.user, **data.validated_data)
        group = group_get_for_viewer(user=request.user, group_id=group.pk)
        return _render(request, group, code=status.HTTP_201_CREATED)


class GroupSessionDetailView(APIView):
    @extend_schema(responses=serializers.GroupSessionSerializer)
    def get(self, request, pk: int):
        return _render(request, group_get_for_viewer(user=request.user, group_id=pk))


class GroupJoinView(APIView):
    """A client takes one seat (409 `group_full` when none is left; the same seat again if
    they already hold one)."""

    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.GroupSessionSerializer)
    def post(self, request, pk: int):
        group_get_for_viewer(user=request.user, group_id=pk)  # 404 for a group not theirs to see
        group_join(group_id=pk, client=request.user)
        return _render(request, group_get_for_viewer(user=request.user, group_id=pk))


class GroupLeaveView(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.GroupSessionSerializer)
    def post(self, request, pk: int):
        group_get_for_viewer(user=request.user, group_id=pk)
        group_leave(group_id=pk, client=request.user)
        return _render(request, group_get_for_viewer(user=request.user, group_id=pk))


class GroupCancelView(APIView):
    permission_classes = [IsCounselor]

    @extend_schema(request=None, responses=serializers.GroupSessionSerializer)
    def post(self, request, pk: int):
        group_cancel(group_id=pk, counselor_user=request.user)
        return _render(request, group_get_for_viewer(user=request.user, group_id=pk))
