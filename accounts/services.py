"""Writes for tenants and users."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction

from accounts import errors
from accounts.models import DEFAULT_WRITE_RATE, Role, Tenant, User
from telemetry.errors import Conflict


def tenant_create(
    *,
    slug: str,
    name: str = "",
    time_zone: str = "UTC",
    raw_retention_days: int = 60,
    write_rate: str = DEFAULT_WRITE_RATE,
) -> Tenant:
    """Create a tenant; an existing slug is a Conflict."""
    tenant = Tenant(
        slug=slug,
        name=name or slug,
        time_zone=time_zone,
        raw_retention_days=raw_retention_days,
        write_rate=write_rate,
    )
    tenant.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError:
        raise Conflict(errors.TENANT_EXISTS.format(slug=slug)) from None
    return tenant


def password_generate() -> str:
    return secrets.token_urlsafe(12)


def user_create(*, tenant: Tenant, username: str, password: str, role: str = Role.MEMBER) -> User:
    """Create a user of `tenant`; an existing username (in any tenant) is a Conflict."""
    user = User(tenant=tenant, username=username, role=role)
    user.full_clean(exclude=["password"], validate_unique=False)
    validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(errors.USER_EXISTS.format(username=username)) from None
    return user
