from drf_spectacular.utils import extend_schema
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts.serializers import CredentialsSerializer, MeSerializer, TokenSerializer
from accounts.services import InvalidCredentials, LoginThrottled, token_issue


class LoginRateThrottle(AnonRateThrottle):
    scope = "login"


class TokenApi(APIView):
    """Exchange a username and password for a device token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=CredentialsSerializer, responses={200: TokenSerializer})
    def post(self, request: Request) -> Response:
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        try:
            issued = token_issue(
                username=credentials.validated_data["username"],
                password=credentials.validated_data["password"],
                request=request._request,
            )
        except LoginThrottled as throttled:
            raise Throttled(
                wait=throttled.retry_after_s, detail="Too many failed logins; try again later."
            ) from throttled
        except InvalidCredentials:
            return Response(
                {"detail": "Wrong username or password."}, status=status.HTTP_400_BAD_REQUEST
            )
        body = {"token": issued.token, "user": MeSerializer(issued.user).data}
        return Response(body, status=status.HTTP_200_OK)


class MeApi(APIView):
    @extend_schema(responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class LogoutApi(KnoxLogoutView):
    """Revoke the token this request was made with."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):  # noqa: A002
        return super().post(request, format)
