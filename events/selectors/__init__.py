"""Reads of events, channels and rollups, always inside a device's or tenant's scope."""

from events.selectors.history import History, history_read, rollups_window
from events.selectors.overview import (
    ChannelNow,
    DeviceOverview,
    device_overview,
    devices_overview,
    events_latest,
)

__all__ = [
    "ChannelNow",
    "DeviceOverview",
    "History",
    "device_overview",
    "devices_overview",
    "events_latest",
    "history_read",
    "rollups_window",
]
