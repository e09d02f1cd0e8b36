"""Token serializers: the refresh endpoint re-checks the user behind the token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from accounts import errors


class ActiveUserTokenRefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # simplejwt 5.5.1 raises DoesNotExist (a 500) for a deleted user.
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(errors.NO_ACTIVE_ACCOUNT, "no_active_account") from None
