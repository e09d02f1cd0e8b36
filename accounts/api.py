"""JWT endpoints (simplejwt), answering errors in our JSON shape."""

from __future__ import annotations

from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from telemetry.api import JsonApiView


class TokenObtainView(JsonApiView, TokenObtainPairView):
    """POST username + password → access + refresh."""


class TokenRefreshView(JsonApiView, TokenRefreshView):
    """POST refresh → new access."""
