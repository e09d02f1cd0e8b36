"""Keep cached key lookups coherent: whatever changes a key, its device or its tenant
(admin, services, cascades) drops the cached entries, so the next request reads the
database. Cache upkeep only; no domain rule lives here."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Tenant
from devices.models import Device, DeviceAPIKey
from devices.services import key_cache_forget


@receiver([post_save, post_delete], sender=DeviceAPIKey)
def key_changed(sender, instance: DeviceAPIKey, **kwargs) -> None:
    key_cache_forget(prefixes=[instance.prefix])


@receiver(post_save, sender=Device)
def device_changed(sender, instance: Device, **kwargs) -> None:
    key_cache_forget(
        prefixes=DeviceAPIKey.objects.for_device(instance).values_list("prefix", flat=True)
    )


@receiver(post_save, sender=Tenant)
def tenant_changed(sender, instance: Tenant, **kwargs) -> None:
    keys = DeviceAPIKey.objects.filter(device__tenant=instance)
    key_cache_forget(prefixes=keys.values_list("prefix", flat=True))
