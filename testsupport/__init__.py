"""Plain factory functions for tests; related objects stay in one tenant."""

from __future__ import annotations

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role, Tenant, User
from accounts.services import tenant_create, user_create
from devices.models import Device
from devices.services import device_register, key_create

PASSWORD = "correct-horse-battery-staple"


def make_tenant(slug: str, **fields) -> Tenant:
    return tenant_create(slug=slug, name=slug.title(), **fields)


def make_user(tenant: Tenant | None, username: str, role: str = Role.MEMBER) -> User:
    if tenant is None:
        return User.objects.create_superuser(username=username, password=PASSWORD)
    return user_create(tenant=tenant, username=username, password=PASSWORD, role=role)


def make_device(tenant: Tenant, device_id: str = "esp32-01") -> Device:
    return device_register(tenant=tenant, device_id=device_id)


def make_key(device: Device) -> str:
    return key_create(device=device).raw_key


def bearer(user: User) -> dict[str, str]:
    """Headers for APIClient calls authenticated as `user` with a fresh access token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


def key_header(raw_key: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": raw_key}
