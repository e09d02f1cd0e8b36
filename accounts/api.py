"""JWT endpoints (simplejwt), answering errors in our JSON shape."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.services import client_ip, credential_failure_note, credential_failures_check
from telemetry import openapi
from telemetry.api import JsonApiView


class TokenObtainView(JsonApiView, TokenObtainPairView):
    """POST username + password → access + refresh; failures are limited per address."""

    @openapi.token_post
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ip = client_ip(request)
        credential_failures_check(kind="login", ip=ip)
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            credential_failure_note(kind="login", ip=ip)
            raise


class TokenRefreshView(JsonApiView, TokenRefreshView):
    """POST refresh → new access and refresh tokens."""

    @openapi.token_refresh_post
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)
