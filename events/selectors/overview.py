"""What the pages show: each device's channels now, today's ON time, latest events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from accounts.models import Tenant
from devices.models import Device
from devices.services import TOUCH_INTERVAL
from events.buckets import Period, bucket_start
from events.models import Channel, ChannelKind, Event

ON_OFF = frozenset({"ON", "OFF"})


@dataclass
class ChannelNow:
    name: str
    kind: str
    ts: datetime | None
    state: str | None
    value: float | None
    # ON/OFF channels only: seconds ON since the tenant's local midnight.
    on_seconds_today: int | None = None

    @property
    def is_on_off(self) -> bool:
        return self.state in ON_OFF


@dataclass
class DeviceOverview:
    device: Device
    channels: list[ChannelNow] = field(default_factory=list)
    # A device is silent once its expected interval has passed since it was last
    # seen; `last_seen_at` is noted at most once a minute, hence the slack.
    silent_since: datetime | None = None
    is_online: bool = False


def _silent_since(device: Device) -> datetime | None:
    if device.last_seen_at is None:
        return None
    expected = timedelta(seconds=device.expected_interval_seconds)
    return device.last_seen_at + TOUCH_INTERVAL + expected


def on_seconds(
    *, carried: str | None, events: list[tuple[datetime, str]], start: datetime, end: datetime
) -> int:
    """Seconds ON in [start, end): a state holds until the next event; time before
    the first known state is not counted."""
    total = 0.0
    state, since = carried, start
    for ts, next_state in events:
        if state == "ON":
            total += (ts - since).total_seconds()
        state, since = next_state, ts
    if state == "ON":
        total += (end - since).total_seconds()
    return round(total)


def _overviews(devices: list[Device], *, tenant: Tenant, now: datetime) -> list[DeviceOverview]:
    midnight = bucket_start(now, zone=ZoneInfo(tenant.time_zone), period=Period.DAY)
    today = defaultdict(list)
    state_events = (
        Event.objects.filter(device__in=devices, ts__gte=midnight, ts__lt=now)
        .filter(Q(state="ON") | Q(state="OFF"))
        .order_by("ts")
        .values_list("device_id", "channel", "ts", "state")
    )
    for device_pk, channel, ts, state in state_events:
        today[device_pk, channel].append((ts, state))
    by_device = {device.pk: DeviceOverview(device=device) for device in devices}
    channels = Channel.objects.filter(device__in=devices).with_carried_in(midnight, ("state",))
    for channel in channels.order_by("device_id", "name"):
        now_state = ChannelNow(
            channel.name, channel.kind, channel.last_ts, channel.last_state, channel.last_value
        )
        if channel.kind == ChannelKind.STATE and now_state.is_on_off:
            now_state.on_seconds_today = on_seconds(
                carried=channel.event_state or channel.rollup_state,
                events=today[channel.device_id, channel.name],
                start=midnight,
                end=now,
            )
        by_device[channel.device_id].channels.append(now_state)
    for overview in by_device.values():
        overview.silent_since = _silent_since(overview.device)
        overview.is_online = overview.silent_since is not None and now < overview.silent_since
    return list(by_device.values())


def devices_overview(*, tenant: Tenant, now: datetime) -> list[DeviceOverview]:
    """Every device of `tenant`, by id, with its channels now and today's ON time (3 queries)."""
    devices = list(Device.objects.for_tenant(tenant).order_by("device_id"))
    for device in devices:
        device.tenant = tenant
    return _overviews(devices, tenant=tenant, now=now)


def device_overview(*, device: Device, now: datetime) -> DeviceOverview:
    """One device (already scoped by `device_get`) with its channels now."""
    return _overviews([device], tenant=device.tenant, now=now)[0]


def events_latest(*, device: Device, limit: int = 20) -> list[Event]:
    """The device's newest `limit` events, newest first."""
    return list(Event.objects.for_device(device).order_by("-ts", "channel")[:limit])
