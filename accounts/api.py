"""JWT endpoints (simplejwt), answering errors in our JSON shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenViewBase

from accounts.services import client_ip, credential_failure_note, credential_failures_check
from telemetry import openapi
from telemetry.api import JsonApiView
from telemetry.jsonbody import read_json_object


def _tokens(view: TokenViewBase, request: Request) -> Response:
    """simplejwt's post, fed by our body reader instead of `request.data` (DRF's parser
    lets Django's limit answer an HTML 400, keeps the last of duplicate keys, and answers
    a body without Content-Type with 415)."""
    body = read_json_object(request, max_bytes=settings.AUTH_MAX_BODY_BYTES)
    serializer = view.get_serializer(data=body)
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc
    return Response(serializer.validated_data)


class TokenObtainView(JsonApiView, TokenObtainPairView):
    """POST username + password → access + refresh; failures are limited per address."""

    @openapi.token_post
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ip = client_ip(request)
        credential_failures_check(kind="login", ip=ip)
        try:
            return _tokens(self, request)
        except AuthenticationFailed:
            credential_failure_note(kind="login", ip=ip)
            raise


class TokenRefreshView(JsonApiView, TokenRefreshView):
    """POST refresh → new access and refresh tokens."""

    @openapi.token_refresh_post
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _tokens(self, request)
