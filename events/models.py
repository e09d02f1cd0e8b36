"""Raw events and each channel's kind and current state."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import models

from accounts.models import Tenant
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

    def for_tenant(self, tenant: Tenant) -> EventQuerySet:
        return self.filter(device__tenant=tenant)


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
            # The rollup job's scan for what arrived since its last run: WHERE received_at >= %s.
            models.Index(fields=["received_at"], name="event_received_at"),
        ]

    def __str__(self) -> str:
        reading = self.state if self.state is not None else self.value
        return f"{self.device_id}/{self.channel}@{self.ts.isoformat()}={reading}"


class ChannelQuerySet(models.QuerySet):
    def for_device(self, device: Device) -> ChannelQuerySet:
        return self.filter(device=device)

    def with_carried_in(
        self, moment: datetime, fields: tuple[str, ...] = ("ts", "state", "value")
    ) -> ChannelQuerySet:
        """Each channel with what it carried in at `moment`, as `event_<field>` (its latest
        raw event before it) and `rollup_<field>` (where raw events are purged, the end of
        its latest hourly rollup before it): one correlated subquery per field and source."""
        last_event = Event.objects.filter(
            device=models.OuterRef("device"), channel=models.OuterRef("name"), ts__lt=moment
        ).order_by("-ts")
        last_rollup = Rollup.objects.filter(
            device=models.OuterRef("device"),
            channel=models.OuterRef("name"),
            period=RollupPeriod.HOUR,
            bucket_start__lt=moment,
        ).order_by("-bucket_start")
        annotations = {}
        for field in fields:
            annotations[f"event_{field}"] = models.Subquery(last_event.values(field)[:1])
            annotations[f"rollup_{field}"] = models.Subquery(
                last_rollup.values(f"last_{field}")[:1]
            )
        return self.annotate(**annotations)


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


class RollupPeriod(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"


class RollupQuerySet(models.QuerySet):
    def for_device(self, device: Device) -> RollupQuerySet:
        return self.filter(device=device)


class Rollup(models.Model):
    """The summary of one channel over one hour or local day.

    Stored only for buckets with at least one event; a bucket without events
    is derived on read from the previous row's end state (so one event dated
    2001 never materialises years of empty rows). Durations are milliseconds.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="rollups")
    channel = models.CharField(max_length=CHANNEL_MAX_LENGTH)
    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    bucket_start = models.DateTimeField()
    bucket_end = models.DateTimeField()
    local_date = models.DateField(null=True, blank=True, help_text="Day buckets only.")
    time_zone = models.CharField(max_length=64, help_text="The zone the bucket was computed in.")
    # Time after bucket_start that the figures cover: the bucket's end, or the
    # moment of computation for the bucket that was still open then.
    covered_until = models.DateTimeField()
    count = models.PositiveIntegerField()
    changes = models.PositiveIntegerField(default=0)
    state_ms = models.JSONField(default=dict, blank=True)
    known_ms = models.BigIntegerField(default=0)
    min = models.FloatField(null=True, blank=True)
    max = models.FloatField(null=True, blank=True)
    sum = models.FloatField(null=True, blank=True)
    twa = models.FloatField(null=True, blank=True)
    last_ts = models.DateTimeField()
    last_state = models.CharField(  # noqa: DJ001
        max_length=STATE_MAX_LENGTH, null=True, blank=True
    )
    last_value = models.FloatField(null=True, blank=True)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [
            # Upsert target; also serves "one device, a period, a time range" reads.
            models.UniqueConstraint(
                fields=["device", "channel", "period", "bucket_start"],
                name="rollup_unique_bucket",
            )
        ]
        indexes = [
            # History of all channels: WHERE device_id = %s AND period = %s AND bucket_start >= %s.
            models.Index(fields=["device", "period", "bucket_start"], name="rollup_device_period"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.channel} {self.period} {self.bucket_start.isoformat()}"

    @property
    def mean(self) -> float | None:
        return None if self.sum is None or not self.count else self.sum / self.count


class JobCursor(models.Model):
    """How far a background job got (e.g. the rollup's arrival watermark)."""

    name = models.CharField(max_length=50, unique=True)
    position = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.position.isoformat()}"
