"""Reads for devices and keys, always inside a caller's scope."""

from __future__ import annotations

import hmac
import pickle
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from redis import Redis

from accounts.models import Tenant, User
from devices import errors
from devices.models import KEY_PREFIX_LENGTH, Device, DeviceAPIKey
from devices.services import KEY_ALPHABET, KEY_LENGTH, key_cache_name, key_digest
from telemetry.errors import BadInput, Forbidden
from telemetry.ratelimit import shared_redis

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


def key_cache_redis() -> Redis | None:
    """Redis, when key lookups are cached (KEY_CACHE_SECONDS; settings require Redis)."""
    return shared_redis(caches["default"]) if settings.KEY_CACHE_SECONDS else None


def key_entry_head(key: DeviceAPIKey) -> str:
    """What a key's cache entry starts with: all that device-key admission relies on
    when it compares the entry in Redis (devices/auth.py); never a newline."""
    device = key.device
    tenant = device.tenant
    return (
        f"{key.digest}|{key.pk}|{device.pk}|{device.device_id}|{tenant.write_rate}"
        f"|{int(tenant.is_active)}"
    )


def key_entry_read(entry: bytes) -> DeviceAPIKey:
    """The key (device and tenant joined) in a cache entry: its head, a newline, a pickle."""
    return pickle.loads(entry.partition(b"\n")[2])  # noqa: S301 (written by key_read only)


def key_read(prefix: str) -> DeviceAPIKey | None:
    """The live key with `prefix`, its device and tenant joined, from the database; kept
    in the cache for the next requests when key lookups are cached."""
    key = (
        DeviceAPIKey.objects.select_related("device__tenant")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is not None and (redis := key_cache_redis()) is not None:
        entry = key_entry_head(key).encode() + b"\n" + pickle.dumps(key)
        name = caches["default"].make_key(key_cache_name(prefix))
        redis.set(name, entry, ex=settings.KEY_CACHE_SECONDS)
    return key


def _key_lookup(prefix: str) -> DeviceAPIKey | None:
    """The live key with `prefix`, its device and tenant joined; from the shared cache
    when one is configured (KEY_CACHE_SECONDS), so most requests skip the database."""
    redis = key_cache_redis()
    if redis is not None:
        entry = redis.get(caches["default"].make_key(key_cache_name(prefix)))
        if entry is not None:
            return key_entry_read(entry)
    return key_read(prefix)


def key_well_formed(raw_key: str) -> bool:
    return len(raw_key) == KEY_LENGTH and _KEY_CHARS.issuperset(raw_key)


def key_matches(key: DeviceAPIKey | None, *, digest: str) -> bool:
    """Whether `key` (looked up by prefix) is live for a raw key of that digest."""
    return (
        key is not None and key.device.tenant.is_active and hmac.compare_digest(key.digest, digest)
    )


def key_authenticate(*, raw_key: str) -> DeviceAPIKey | None:
    """The live key matching `raw_key` (device and tenant joined), or None."""
    if not key_well_formed(raw_key):
        return None
    key = _key_lookup(raw_key[:KEY_PREFIX_LENGTH])
    return key if key_matches(key, digest=key_digest(raw_key)) else None


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
