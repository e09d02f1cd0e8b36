"""Raw events and each channel's kind and current state."""

from __future__ import annotations

import re

from django.db import models

from devices.models import Device

CHANNEL_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CHANNEL_MAX_LENGTH = 64
STATE_MAX_LENGTH = 32
VALUE_MAX_ABS = 1e15


class ChannelKind(models.TextChoices):
    STATE = "state", "State"
    NUMERIC = "numeric", "Numeric"


class EventQuerySet(models.QuerySet):
    def for_device(self, device: Device) -> EventQuerySet:
        return self.filter(device=device)


class Event(models.Model):
    """One report: a state or a numeric value of a device's channel at an instant."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    channel = models.CharField(max_length=CHANNEL_MAX_LENGTH)
    ts = models.DateTimeField(help_text="When it happened (millisecond precision).")
    received_at = models.DateTimeField()
    # NULL, not "", marks a numeric event (the state/value check constraint needs it).
    state = models.CharField(max_length=STATE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    value = models.FloatField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        constraints = [
            # Idempotent ingest (ON CONFLICT target); also serves
            # "one device, one channel, a time range" reads.
            models.UniqueConstraint(
                fields=["device", "channel", "ts"], name="event_unique_device_channel_ts"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state__isnull=False, value__isnull=True)
                    | models.Q(state__isnull=True, value__isnull=False)
                ),
                name="event_state_xor_value",
            ),
        ]
        indexes = [
            # History of all channels of one device: WHERE device_id = %s AND ts >= %s ORDER BY ts.
            models.Index(fields=["device", "ts"], name="event_device_ts"),
        ]

    def __str__(self) -> str:
        reading = self.state if self.state is not None else self.value
        return f"{self.device_id}/{self.channel}@{self.ts.isoformat()}={reading}"


class ChannelQuerySet(models.QuerySet):
    def for_device(self, device: Device) -> ChannelQuerySet:
        return self.filter(device=device)


class Channel(models.Model):
    """A device's channel: its kind (fixed by its first event) and its current state.

    Kept beside the events so that purging raw events never loses what a
    device is doing now.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=CHANNEL_MAX_LENGTH)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    last_ts = models.DateTimeField(null=True, blank=True)
    last_state = models.CharField(max_length=STATE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    last_value = models.FloatField(null=True, blank=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        constraints = [
            # Looked up on every ingest: WHERE device_id = %s AND name = %s.
            models.UniqueConstraint(fields=["device", "name"], name="channel_unique_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.name} ({self.kind})"
