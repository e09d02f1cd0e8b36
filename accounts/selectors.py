"""Reads for tenants."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

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


def tenant_users(*, tenant: Tenant) -> QuerySet[User]:
    """The tenant's users, by username."""
    return User.objects.filter(tenant=tenant).order_by("username")


def tenant_user_get(*, tenant: Tenant, user_id: int) -> User:
    """A user of `tenant`; another tenant's answers exactly like a missing one (404)."""
    user = User.objects.filter(tenant=tenant, pk=user_id).first()
    if user is None:
        raise Http404(errors.USER_NOT_FOUND)
    user.tenant = tenant  # already loaded: spare the join
    return user
