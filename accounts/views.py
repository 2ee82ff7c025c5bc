from zoneinfo import ZoneInfo

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import serializers
from accounts.models import Notice
from accounts.selectors import notice_rendered, notices_of, notification_preference_for
from accounts.services import (
    notice_mark_read,
    notices_mark_all_read,
    notification_preference_update,
    user_token_get,
    user_update,
)
from core.permissions import IsClient
from intake.selectors import CURRENT_VERSION, WITHDRAWN_MESSAGE, consent_text, pick_language
from intake.services import (
    consent_agree,
    consent_current_for,
    consent_withdraw,
    intake_outcome,
    intake_submit,
)
from workflows.services import user_delete, user_sign_up


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=serializers.RegisterInputSerializer,
        responses={201: serializers.RegisterOutputSerializer},
    )
    def post(self, request):
        data = serializers.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_sign_up(**data.validated_data)
        return Response(
            serializers.RegisterOutputSerializer(user).data, status=status.HTTP_201_CREATED
        )


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=serializers.TokenInputSerializer, responses={200: serializers.TokenOutputSerializer}
    )
    def post(self, request):
        data = serializers.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:  # also for suspended (inactive) accounts
            raise ValidationError(
                {"non_field_errors": ["Unable to log in with the given username and password."]}
            )
        return Response({"token": user_token_get(user=user)})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request):
        return Response(serializers.MeSerializer(request.user).data)

    @extend_schema(request=serializers.MeUpdateSerializer, responses=serializers.MeSerializer)
    def patch(self, request):
        data = serializers.MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update(user=request.user, **data.validated_data)
        return Response(serializers.MeSerializer(user).data)

    @extend_schema(responses={204: None})
    def delete(self, request):
        """Delete my account: see accounts.services.user_delete for what goes and what stays."""
        user_delete(user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _language(request) -> str:
    """zh-hans or en: the request's language when it asks for one (Accept-Language, as for the
    rest of the API), else the user's own setting."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return pick_language(getattr(request, "LANGUAGE_CODE", None))
    return pick_language(request.user.language)


def _consent_body(request, record) -> dict:
    language = _language(request)
    return {
        "version": CURRENT_VERSION,
        "language": language,
        "text": consent_text(CURRENT_VERSION, language),
        "agreed": record is not None,
        "agreed_at": record.agreed_at if record is not None else None,
    }


class ConsentView(APIView):
    """The current consent to process health information; a client agrees to it by version."""

    def get_permissions(self):
        return [IsClient()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(responses=serializers.ConsentSerializer)
    def get(self, request):
        record = consent_current_for(request.user)
        return Response(serializers.ConsentSerializer(_consent_body(request, record)).data)

    @extend_schema(
        request=serializers.ConsentAgreeInputSerializer,
        responses={200: serializers.ConsentSerializer, 201: serializers.ConsentSerializer},
    )
    def post(self, request):
        data = serializers.ConsentAgreeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record, created = consent_agree(
            user=request.user, version=data.validated_data["version"], language=_language(request)
        )
        return Response(
            serializers.ConsentSerializer(_consent_body(request, record)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConsentWithdrawView(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=None, responses=serializers.ConsentWithdrawOutputSerializer)
    def post(self, request):
        withdrawn = consent_withdraw(user=request.user)
        return Response(
            {"withdrawn": withdrawn > 0, "message": WITHDRAWN_MESSAGE[_language(request)]}
        )


class IntakeView(APIView):
    permission_classes = [IsClient]

    @extend_schema(
        request=serializers.IntakeInputSerializer,
        responses={201: serializers.IntakeOutputSerializer},
    )
    def post(self, request):
        data = serializers.IntakeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The intake carries the consent version the client was shown: with no standing
        # agreement, it is recorded from here (intake.services.intake_submit).
        intake = intake_submit(
            user=request.user,
            agree_to_consent=True,
            consent_language=_language(request),
            **data.validated_data,
        )
        return Response(
            intake_outcome(intake=intake, language=_language(request)),
            status=status.HTTP_201_CREATED,
        )


# --- Notification preferences and notices ---------------------------------------------------


class NotificationPreferenceView(APIView):
    """My notification preferences: reminder channels, which reminders, quiet hours."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.NotificationPreferenceSerializer)
    def get(self, request):
        pref = notification_preference_for(user=request.user)
        return Response(serializers.NotificationPreferenceSerializer(pref).data)

    @extend_schema(
        request=serializers.NotificationPreferenceUpdateSerializer,
        responses=serializers.NotificationPreferenceSerializer,
    )
    def patch(self, request):
        data = serializers.NotificationPreferenceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pref = notification_preference_update(user=request.user, **data.validated_data)
        return Response(serializers.NotificationPreferenceSerializer(pref).data)


def _reader_zone(request) -> ZoneInfo:
    # Token-authenticated requests pass the timezone middleware as anonymous: the user's own.
    return ZoneInfo(request.user.timezone)


class NoticeListView(generics.GenericAPIView):
    """My notices, newest first (`?unread=true`: only the unread ones), each in the request's
    language with times in my zone."""

    permission_classes = [IsAuthenticated]
    serializer_class = serializers.NoticeSerializer
    queryset = Notice.objects.none()  # for the schema; get() reads the user's own
    filterset_class = None

    @extend_schema(
        parameters=[serializers.NoticeListQuerySerializer],
        responses=serializers.NoticeSerializer(many=True),
    )
    def get(self, request):
        query = serializers.NoticeListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notices = notices_of(user=request.user, unread_only=query.validated_data["unread"])
        page = self.paginate_queryset(notices)
        zone = _reader_zone(request)
        return self.get_paginated_response(
            serializers.NoticeSerializer(
                [notice_rendered(n, zone=zone) for n in page], many=True
            ).data
        )


class NoticeReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=serializers.NoticeSerializer)
    def post(self, request, pk: int):
        """Mark one of my notices read (anyone else's: 404)."""
        notice = notice_mark_read(user=request.user, notice_id=pk)
        return Response(
            serializers.NoticeSerializer(notice_rendered(notice, zone=_reader_zone(request))).data
        )


class NoticesReadAllView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=serializers.NoticesReadAllSerializer)
    def post(self, request):
        """Mark all my unread notices read."""
        return Response({"marked": notices_mark_all_read(user=request.user)})
