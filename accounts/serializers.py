"""Token serializers: tokens carry the tenant; refreshing re-checks the user behind them."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts import errors
from accounts.auth import user_may_authenticate
from accounts.models import User
from accounts.selectors import user_for_token


class TenantTokenObtainSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user: User) -> RefreshToken:
        token = super().get_token(user)
        # For clients to read; never used to scope a query (it goes stale if the
        # user moves to another tenant): the user row decides.
        token["tenant"] = user.tenant.slug if user.tenant_id else None
        return token


class CheckedTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt 5.5.1 refreshes a deleted user's token with a 500 and never checks the
    password claim; here both, and a deactivated user or tenant, answer 401."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])  # expired or blacklisted: 401
        user = user_for_token(user_id=refresh.get(api_settings.USER_ID_CLAIM))
        if (
            user is None
            or not user_may_authenticate(user)
            or refresh.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)
        ):
            raise AuthenticationFailed(errors.NO_ACTIVE_ACCOUNT, "no_active_account")
        return super().validate(attrs)
