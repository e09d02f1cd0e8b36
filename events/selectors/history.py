"""Reads of events and rollups, always for one device."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    TextField,
    When,
)
from django.db.models.functions import Cast

from devices.models import Device
from events.buckets import Bucket, Period, buckets_between
from events.models import Channel, Event, Rollup
from events.serializers import ONE_MS, legacy_valve_id, to_epoch_ms


def events_window(
    *,
    device: Device,
    start: datetime,
    end: datetime | None,
    channel: str | None,
    limit: int,
) -> list[tuple]:
    """The oldest `limit` events of `device` with start <= ts < end, by (ts, channel):
    (epoch ms, channel, state, value) tuples."""
    events = Event.objects.for_device(device).filter(ts__gte=start)
    if end is not None:
        events = events.filter(ts__lt=end)
    if channel is not None:
        events = events.filter(channel=channel)
    return list(
        events.order_by("ts", "channel").values_list(EpochMs("ts"), "channel", "state", "value")[
            :limit
        ]
    )


def events_count_upto(
    *, device: Device, start: datetime, end: datetime, channel: str | None, upto: int
) -> int:
    """How many events fall in [start, end), counting no further than `upto`."""
    events = Event.objects.for_device(device).filter(ts__gte=start, ts__lt=end)
    if channel is not None:
        events = events.filter(channel=channel)
    return len(events.values_list("pk", flat=True)[:upto])


def _channels(device: Device, channel: str | None):
    channels = Channel.objects.for_device(device)
    return channels.filter(name=channel) if channel is not None else channels


def events_before(*, device: Device, start: datetime, channel: str | None) -> list[tuple]:
    """Per channel, the state or value carried in at `start` (one query), as
    (epoch ms, channel, state, value) tuples.

    The latest raw event before `start`, or, where raw events are purged, the
    end state of the latest hourly rollup before it.
    """
    rows = _channels(device, channel).with_carried_in(start)
    carried = []
    for row in rows.order_by("name"):
        if row.event_ts is not None:
            carried.append((to_epoch_ms(row.event_ts), row.name, row.event_state, row.event_value))
        elif row.rollup_ts is not None:
            carried.append(
                (to_epoch_ms(row.rollup_ts), row.name, row.rollup_state, row.rollup_value)
            )
    return carried


def _seconds(ms: int) -> int | float:
    return ms // 1000 if ms % 1000 == 0 else round(ms / 1000, 3)


class EpochMs(Func):
    """A datetime column as epoch milliseconds, rounded down like `to_epoch_ms`, computed
    by the database: Django's PostgreSQL loader spends ~4 µs in Python on each
    timestamptz, an integer costs nothing."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        # EXTRACT gives an exact numeric (PostgreSQL 14+): FLOOR is exact to the µs.
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s) * 1000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: whole seconds, plus the
        # first three digits of the fraction (none: 0). `%%%%` is one `%` once Django
        # has filled the template and turned the query's placeholders into `?`.
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000"
            " + CAST(substr(%(expressions)s, 21, 3) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


# Only a bucket still open when computed (covered_until < bucket_end) is carried on to
# now, so only its covered_until and bucket_end are read as datetimes: Django's
# PostgreSQL loader spends ~4 µs in Python on each timestamptz.
_OPEN = Q(covered_until__lt=F("bucket_end"))

# What an item needs of a stored bucket, read as plain tuples: a model instance per row
# costs more than everything else the answer does with it. `state_ms` comes as text,
# parsed only for state channels (a numeric channel's is always "{}").
_ROW = (
    EpochMs("bucket_start"),
    ExpressionWrapper(F("bucket_end") - F("bucket_start"), DurationField()),
    "channel", "local_date", "time_zone", Case(When(_OPEN, then=F("covered_until"))),
    Case(When(_OPEN, then=F("bucket_end"))), "count", "changes",
    Cast("state_ms", TextField()), "known_ms", "min", "max", "sum", "twa", "last_state",
    "last_value",
)  # fmt: skip
_ENDS = ("last_state", "last_value")  # the last two of _ROW


def _item(row: tuple, *, day: bool, now: datetime) -> dict:
    """A stored bucket; the one still open at computation is carried on to now."""
    (
        start_ms, length, channel, local_date, time_zone, covered_until, open_end,
        count, changes, state_ms, known_ms, low, high, total, twa, last_state, last_value,
    ) = row  # fmt: skip
    open_ms = 0
    if open_end is not None:
        open_ms = max(0, (min(now, open_end) - covered_until) // ONE_MS)
    item = {
        "ts": start_ms,
        "channel": channel,
        "bucket_seconds": int(length.total_seconds()),
        "count": count,
    }
    if day:
        item["date"] = local_date.isoformat()
        item["time_zone"] = time_zone
    if last_state is not None:
        state_ms = json.loads(state_ms)
        state_ms[last_state] = state_ms.get(last_state, 0) + open_ms
        item["state_seconds"] = {state: _seconds(ms) for state, ms in sorted(state_ms.items())}
        item["known_seconds"] = _seconds(known_ms + open_ms)
        item["changes"] = changes
        item["last_state"] = last_state
        return item
    weighted = (twa or 0.0) * known_ms + last_value * open_ms
    known_ms += open_ms
    item["min"] = low
    item["max"] = high
    item["sum"] = total
    item["mean"] = None if total is None or not count else total / count
    item["twa"] = weighted / known_ms if known_ms else None
    item["last_value"] = last_value
    return item


def _carried_item(
    bucket: Bucket, channel: str, last_state: str | None, last_value: float | None, *,
    day: bool, zone: ZoneInfo, now: datetime,
) -> dict | None:  # fmt: skip
    """A bucket with no event inside: the previous end state holds throughout (a row of
    `_ROW`'s shape with nothing counted, open from the bucket's start)."""
    if now <= bucket.start:
        return None
    row = (
        to_epoch_ms(bucket.start), bucket.end - bucket.start, channel,
        bucket.start.astimezone(zone).date(), zone.key, bucket.start, bucket.end, 0, 0, "{}",
        0, None, None, None, None, last_state, last_value,
    )  # fmt: skip
    return _item(row, day=day, now=now)


def rollups_window(
    *,
    device: Device,
    period: Period,
    start: datetime,
    end: datetime | None,
    channel: str | None,
    limit: int,
    now: datetime,
) -> list[dict]:
    """One item per bucket and channel overlapping [start, end), oldest first, up to `limit`.

    Buckets without events (not stored) are derived from the previous bucket's
    end state; buckets before a channel's first event, or after now, have no item.
    """
    zone = ZoneInfo(device.tenant.time_zone)
    grid = buckets_between(start, min(end or now, now), zone=zone, period=period)
    if not grid:
        return []
    stored = Rollup.objects.for_device(device).filter(period=period)
    if channel is not None:
        stored = stored.filter(channel=channel)
    rows = list(
        stored.filter(bucket_start__gte=grid[0].start, bucket_start__lt=grid[-1].end)
        .order_by("bucket_start", "channel")
        .values_list(*_ROW)[:limit]
    )
    # Each channel's end state before the window: (last_state, last_value) of its
    # latest bucket, then of each bucket read.
    previous = stored.filter(channel=OuterRef("name"), bucket_start__lt=grid[0].start).order_by(
        "-bucket_start"
    )
    carry_ids = _channels(device, channel).annotate(row_id=Subquery(previous.values("pk")[:1]))
    carried = Rollup.objects.filter(pk__in=carry_ids.values("row_id"))
    carry = {name: ends for name, *ends in carried.values_list("channel", *_ENDS)}
    channels = sorted({row[2] for row in rows} | set(carry))

    day = period == Period.DAY
    by_key = {(row[0], row[2]): row for row in rows}
    grid_by_start = {to_epoch_ms(bucket.start): bucket for bucket in grid}
    covered_to: dict[str, int] = {}
    items: list[dict] = []
    for moment in sorted(grid_by_start.keys() | {row[0] for row in rows}):
        bucket = grid_by_start.get(moment)
        for name in channels:
            row = by_key.get((moment, name))
            if row is not None:
                item = _item(row, day=day, now=now)
                carry[name], covered_to[name] = row[-2:], row[0] + row[1] // ONE_MS
            elif bucket is not None and name in carry and moment >= covered_to.get(name, moment):
                item = _carried_item(bucket, name, *carry[name], day=day, zone=zone, now=now)
            else:
                continue
            if item is not None:
                items.append(item)
            if len(items) >= limit:
                return items
    return items


def _raw_items(events: list[tuple]) -> list[dict]:
    """Events as items: a legacy valve channel also names its valve id."""
    valve_ids: dict[str, int | None] = {}
    items = []
    for ts, channel, state, value in events:
        if channel not in valve_ids:
            valve_ids[channel] = legacy_valve_id(channel)
        item = {"ts": ts, "channel": channel}
        if state is not None:
            item["state"] = state
        else:
            item["value"] = value
        if (valve_id := valve_ids[channel]) is not None:
            item["valve_id"] = valve_id
        items.append(item)
    return items


@dataclass(frozen=True)
class History:
    resolution: str
    items: list[dict]
    before: list[dict] | None  # raw answers only: the state carried in at the start


def _auto_resolution(
    *, device: Device, start: datetime, end: datetime, channel: str | None, limit: int
) -> str:
    """Raw while the raw events are kept and fit in `limit`; else the finest rollup that fits."""
    purged_before = device.tenant.raw_purged_before
    if purged_before is None or start >= purged_before:
        counted = events_count_upto(
            device=device, start=start, end=end, channel=channel, upto=limit + 1
        )
        if counted <= limit:
            return "raw"
    channels = max(1, _channels(device, channel).count())
    hours = (end - start) / timedelta(hours=1)
    return Period.HOUR if hours * channels <= limit else Period.DAY


def history_read(
    *,
    device: Device,
    start: datetime,
    end: datetime | None,
    channel: str | None,
    limit: int,
    resolution: str,
    now: datetime,
) -> History:
    """What /api/history answers: raw events with their carried-in state, or rollups."""
    chosen = resolution
    if resolution == "auto":
        chosen = _auto_resolution(
            device=device, start=start, end=end or now, channel=channel, limit=limit
        )
    if chosen != "raw":
        items = rollups_window(
            device=device,
            period=Period(chosen),
            start=start,
            end=end,
            channel=channel,
            limit=limit,
            now=now,
        )
        # Before the rollup job's first run over new events there are no summaries
        # yet: auto then shows the oldest raw events rather than an empty window.
        if items or resolution != "auto":
            return History(chosen, items, None)
    events = events_window(device=device, start=start, end=end, channel=channel, limit=limit)
    before = events_before(device=device, start=start, channel=channel)
    return History("raw", _raw_items(events), _raw_items(before))
