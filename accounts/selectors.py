"""Reads for tenants."""

from __future__ import annotations

from accounts import errors
from accounts.models import Tenant, User
from telemetry.errors import NotFound


def tenant_get(*, slug: str) -> Tenant:
    """The tenant with `slug` (operator scope: commands and admin only)."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NotFound(errors.TENANT_NOT_FOUND.format(slug=slug))
    return tenant


def user_exists(*, username: str) -> bool:
    return User.objects.filter(username=username).exists()


def user_for_token(*, user_id: object) -> User | None:
    """The user a token names, with their tenant, or None (a deleted user, a bad claim)."""
    try:
        return User.objects.select_related("tenant").filter(pk=int(str(user_id))).first()
    except ValueError:
        return None
