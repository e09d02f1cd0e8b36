"""Writes for devices and their keys."""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant
from devices import errors
from devices.models import (
    DEFAULT_INTERVAL_SECONDS,
    INTERVAL_MAX_SECONDS,
    INTERVAL_MIN_SECONDS,
    KEY_PREFIX_LENGTH,
    Device,
    DeviceAPIKey,
)
from telemetry.errors import BadInput, Conflict, NotFound

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_SECRET_LENGTH = 32  # 32 of 62 symbols: ~190 bits beyond the prefix
KEY_LENGTH = KEY_PREFIX_LENGTH + KEY_SECRET_LENGTH
# "Last used" (a key) and "last seen" (its device) are noted at most this often,
# so a busy device does not turn every request into an extra write.
TOUCH_INTERVAL = timedelta(seconds=60)
TOUCH_SECONDS = int(TOUCH_INTERVAL.total_seconds())


def key_cache_name(prefix: str) -> str:
    return f"device-key:v2:{prefix}"


# Before v2 entries were django-redis pickles under this name: a process still running
# that code may have cached one (for KEY_CACHE_SECONDS at most), so it is dropped too.
_OLD_KEY_CACHE_NAME = "device-key:{prefix}"


def key_cache_forget(*, prefixes: Iterable[str]) -> None:
    """Drop cached key lookups (after a revocation, or a change to their device or
    tenant), so the next request reads the database."""
    if settings.KEY_CACHE_SECONDS:
        prefixes = list(prefixes)
        cache.delete_many(
            [key_cache_name(prefix) for prefix in prefixes]
            + [_OLD_KEY_CACHE_NAME.format(prefix=prefix) for prefix in prefixes]
        )


def key_digest(raw_key: str) -> str:
    """Plain SHA-256: the key is high-entropy, so no slow hash is needed (STYLE.md)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: DeviceAPIKey
    raw_key: str  # shown once, never stored


def _check_interval(seconds: int) -> None:
    if not INTERVAL_MIN_SECONDS <= seconds <= INTERVAL_MAX_SECONDS:
        raise BadInput(
            errors.INTERVAL_OUT_OF_RANGE.format(low=INTERVAL_MIN_SECONDS, high=INTERVAL_MAX_SECONDS)
        )


def device_register(
    *,
    tenant: Tenant,
    device_id: str,
    name: str = "",
    expected_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
) -> Device:
    """Create a device in `tenant`; an existing device_id in that tenant is a Conflict."""
    _check_interval(expected_interval_seconds)
    device = Device(
        tenant=tenant,
        device_id=device_id,
        name=name or device_id,
        expected_interval_seconds=expected_interval_seconds,
    )
    device.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        raise Conflict(errors.DEVICE_EXISTS.format(device_id=device_id, tenant=tenant)) from None
    return device


def device_provision(
    *,
    tenant: Tenant,
    device_id: str,
    name: str = "",
    expected_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
) -> NewKey:
    """Register a device in `tenant` with its first key, both or neither."""
    with transaction.atomic():
        device = device_register(
            tenant=tenant,
            device_id=device_id,
            name=name,
            expected_interval_seconds=expected_interval_seconds,
        )
        return key_create(device=device, name="first key")


def device_update(*, device: Device, name: str, expected_interval_seconds: int) -> Device:
    """Rename `device` (fetched in the caller's scope) or change its expected report
    interval; its tenant and device_id never change (the hardware sends the id)."""
    _check_interval(expected_interval_seconds)
    device.name = name or device.device_id
    device.expected_interval_seconds = expected_interval_seconds
    device.full_clean(validate_constraints=False)
    device.save(update_fields=["name", "expected_interval_seconds"])
    return device


def key_create(*, device: Device, name: str = "") -> NewKey:
    """Create a key for `device`; retries on the (unlikely) clash of random prefixes."""
    for _ in range(5):
        raw_key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
        try:
            with transaction.atomic():
                key = DeviceAPIKey.objects.create(
                    device=device,
                    prefix=raw_key[:KEY_PREFIX_LENGTH],
                    digest=key_digest(raw_key),
                    name=name,
                )
        except IntegrityError:
            continue
        return NewKey(key=key, raw_key=raw_key)
    raise RuntimeError("could not draw a unique key prefix")  # pragma: no cover


def key_revoke(*, prefix: str) -> DeviceAPIKey:
    """Revoke the key with `prefix`; an unknown or already revoked key is an error."""
    key = DeviceAPIKey.objects.select_related("device__tenant").filter(prefix=prefix).first()
    if key is None:
        raise NotFound(errors.KEY_NOT_FOUND.format(prefix=prefix))
    with transaction.atomic():
        updated = DeviceAPIKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise Conflict(errors.KEY_ALREADY_REVOKED.format(prefix=prefix))
        # Inside: with the cache down, the revocation is not saved either (503, retry)
        # rather than saved while the cached key keeps working.
        key_cache_forget(prefixes=[prefix])
    # Again after the commit, so the very next request fails: one that read the key
    # between the two may have cached it anew.
    key_cache_forget(prefixes=[prefix])
    key.refresh_from_db(fields=["revoked_at"])
    return key


def key_used_claim_name(key_pk: int) -> str:
    return f"key-used:{key_pk}"


def device_seen_claim_name(device_pk: int) -> str:
    return f"device-seen:{device_pk}"


def _claim_once_a_minute(name: str) -> bool:
    """True for the first caller in a minute (a claim in the cache every process shares)."""
    return cache.add(name, 1, timeout=TOUCH_SECONDS)


def key_note_used(*, key: DeviceAPIKey, now: datetime, claimed: bool | None = None) -> None:
    """Note the key's last use: at most one UPDATE a minute per key, never one per request.
    `claimed`: whether the caller has already tried this minute's claim, and won it."""
    if claimed is None:
        claimed = _claim_once_a_minute(key_used_claim_name(key.pk))
    if claimed:
        DeviceAPIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def device_note_seen(*, device: Device, now: datetime) -> None:
    """Note that the device reported (events were posted for it): at most one UPDATE a
    minute. Reads with its key are not reports, so a silent device never looks online."""
    if _claim_once_a_minute(device_seen_claim_name(device.pk)):
        Device.objects.filter(pk=device.pk).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now)
        ).update(last_seen_at=now)
        device.last_seen_at = now
