"""Reads of events, always for one device."""

from __future__ import annotations

from datetime import datetime

from devices.models import Device
from events.models import Event


def events_window(
    *,
    device: Device,
    start: datetime,
    end: datetime | None,
    channel: str | None,
    limit: int,
) -> list[dict]:
    """The oldest `limit` events of `device` with start <= ts < end, by (ts, channel)."""
    events = Event.objects.for_device(device).filter(ts__gte=start)
    if end is not None:
        events = events.filter(ts__lt=end)
    if channel is not None:
        events = events.filter(channel=channel)
    return list(events.order_by("ts", "channel").values("ts", "channel", "state", "value")[:limit])
