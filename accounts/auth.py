"""JWT authentication that also refuses users of a deactivated tenant."""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from accounts import errors
from accounts.models import User


def user_may_authenticate(user: User | None) -> bool:
    """simplejwt's USER_AUTHENTICATION_RULE: active user of an active tenant (or none)."""
    return user is not None and user.is_active and (user.tenant_id is None or user.tenant.is_active)


class TenantJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:
        user = super().get_user(validated_token)  # checks is_active
        if not user_may_authenticate(user):
            raise AuthenticationFailed(errors.TENANT_INACTIVE, code="tenant_inactive")
        return user


class TenantSessionAuthentication(SessionAuthentication):
    """The pages' own API calls: the logged-in user, refused like a JWT for a deactivated tenant.

    Last in the list, so a request without credentials still answers 401 (the
    first class's `authenticate_header`) and CSRF applies to unsafe methods.
    """

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        result = super().authenticate(request)
        if result is not None and not user_may_authenticate(result[0]):
            raise AuthenticationFailed(errors.TENANT_INACTIVE, code="tenant_inactive")
        return result
