from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import serializers
from accounts.services import user_register, user_token_get, user_update


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=serializers.RegisterInputSerializer,
                   responses={201: serializers.RegisterOutputSerializer})
    def post(self, request):
        data = serializers.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data)
        return Response(serializers.RegisterOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=serializers.TokenInputSerializer, responses={200: serializers.TokenOutputSerializer})
    def post(self, request):
        data = serializers.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:  # also for suspended (inactive) accounts
            raise ValidationError({"non_field_errors": ["Unable to log in with the given username and password."]})
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
