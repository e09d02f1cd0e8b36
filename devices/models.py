"""Devices and their API keys."""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.db import models

from accounts.models import Tenant

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
DEVICE_ID_MAX_LENGTH = 64
KEY_PREFIX_LENGTH = 8
DEFAULT_INTERVAL_SECONDS = 300
# A device reporting more often than every 10 s, or less than once a week,
# would make online/offline meaningless (checked by the services).
INTERVAL_MIN_SECONDS = 10
INTERVAL_MAX_SECONDS = 7 * 24 * 3600


class DeviceQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> DeviceQuerySet:
        return self.filter(tenant=tenant)


class Device(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(
        max_length=DEVICE_ID_MAX_LENGTH,
        validators=[
            RegexValidator(
                DEVICE_ID_RE, "Use 1-64 letters, digits, '_', '.', ':' or '-', starting alnum."
            )
        ],
        help_text="The id the hardware sends, e.g. esp32-pool-01. Unique within the tenant.",
    )
    name = models.CharField(max_length=200, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    expected_interval_seconds = models.PositiveIntegerField(
        default=DEFAULT_INTERVAL_SECONDS,
        help_text="How often the device reports; online/offline is judged by it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "device_id"], name="device_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.device_id}"


class DeviceAPIKeyQuerySet(models.QuerySet):
    def for_device(self, device: Device) -> DeviceAPIKeyQuerySet:
        return self.filter(device=device)


class DeviceAPIKey(models.Model):
    """A device's credential: only the prefix and a SHA-256 digest are stored."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="api_keys")
    # Looked up on every device request: WHERE prefix = %s (unique index).
    prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, unique=True)
    digest = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = DeviceAPIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "device API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.device})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
