"""Reads for devices and keys, always inside a caller's scope."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.models import Tenant, User
from devices import errors
from devices.models import KEY_PREFIX_LENGTH, Device, DeviceAPIKey
from devices.services import KEY_ALPHABET, KEY_LENGTH, key_cache_name, key_digest
from telemetry.errors import BadInput, Forbidden

_KEY_CHARS = frozenset(KEY_ALPHABET)


@dataclass(frozen=True)
class DeviceCaller:
    """A request authenticated by a device key: it may act for that device only."""

    key: DeviceAPIKey
    is_authenticated: bool = True

    @property
    def device(self) -> Device:
        return self.key.device

    @property
    def tenant(self) -> Tenant:
        return self.key.device.tenant


def _key_lookup(prefix: str) -> DeviceAPIKey | None:
    """The live key with `prefix`, its device and tenant joined; from the shared cache
    when one is configured (KEY_CACHE_SECONDS), so most requests skip the database."""
    name = key_cache_name(prefix)
    if settings.KEY_CACHE_SECONDS and (cached := cache.get(name)) is not None:
        return cached
    key = (
        DeviceAPIKey.objects.select_related("device__tenant")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is not None and settings.KEY_CACHE_SECONDS:
        cache.set(name, key, timeout=settings.KEY_CACHE_SECONDS)
    return key


def key_authenticate(*, raw_key: str) -> DeviceAPIKey | None:
    """The live key matching `raw_key` (device and tenant joined), or None."""
    if len(raw_key) != KEY_LENGTH or not _KEY_CHARS.issuperset(raw_key):
        return None
    key = _key_lookup(raw_key[:KEY_PREFIX_LENGTH])
    if key is None or not key.device.tenant.is_active:
        return None
    if not hmac.compare_digest(key.digest, key_digest(raw_key)):
        return None
    return key


def device_get(*, tenant: Tenant, device_id: str) -> Device:
    """The tenant's device; another tenant's answers exactly like a missing one."""
    device = Device.objects.for_tenant(tenant).filter(device_id=device_id).first()
    if device is None:
        raise Http404(errors.DEVICE_NOT_FOUND)
    device.tenant = tenant  # already loaded: spare the join
    return device


def device_for_caller(*, caller: DeviceCaller | User, device_id: str | None, write: bool) -> Device:
    """The device a request may touch: a key's own device, or one of a user's tenant."""
    if isinstance(caller, DeviceCaller):
        # Refused without a lookup, so a key cannot probe which ids exist.
        if device_id is not None and device_id != caller.device.device_id:
            raise Forbidden(errors.KEY_OTHER_DEVICE)
        return caller.device
    if device_id is None:
        raise BadInput(errors.DEVICE_ID_REQUIRED)
    if caller.tenant_id is None:
        raise Forbidden(errors.NO_TENANT)
    if write and not caller.can_write:
        raise Forbidden(errors.VIEWER_READ_ONLY)
    return device_get(tenant=caller.tenant, device_id=device_id)


def tenant_devices(*, tenant: Tenant) -> QuerySet[Device]:
    """The tenant's devices by device_id."""
    return Device.objects.for_tenant(tenant).order_by("device_id")


def tenant_devices_with_keys(*, tenant: Tenant) -> QuerySet[Device]:
    """The tenant's devices by device_id, each with `live_keys`, its unrevoked keys."""
    return tenant_devices(tenant=tenant).annotate(
        live_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
    )


def device_keys(*, device: Device) -> QuerySet[DeviceAPIKey]:
    """The device's keys, newest first, revoked ones included."""
    return DeviceAPIKey.objects.for_device(device).order_by("-created_at", "-pk")


def device_key_get(*, device: Device, prefix: str) -> DeviceAPIKey:
    """A key of `device`; another device's answers exactly like a missing one (404)."""
    key = DeviceAPIKey.objects.for_device(device).filter(prefix=prefix).first()
    if key is None:
        raise Http404(errors.KEY_NOT_OF_DEVICE)
    key.device = device
    return key
