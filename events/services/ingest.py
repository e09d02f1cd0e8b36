"""Writes for events: idempotent ingest, one event or a batch, keeping each channel's
current state."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import Q

from accounts.models import Tenant
from devices.models import Device
from devices.services import device_note_seen
from events import errors
from events.models import Channel, ChannelKind, Event
from events.serializers import Reading
from telemetry.errors import BadInput, Conflict
from telemetry.ratelimit import Usage, limit_take, rate_describe


class IngestResult(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Outcome:
    """What happened to one event of a batch; `error` says why for conflict/rejected."""

    result: IngestResult
    error: str | None = None


_COLUMNS = 6  # device_id, channel, ts, received_at, state, value
# Table names come from the models, never from input. The tenant's raw floor is
# checked in the statement itself, so an insert racing the purge job's raising
# of the floor cannot store an event the purge would then delete unsummarised.
# SQLite names a VALUES list's columns column1..N, as PostgreSQL does.
_INSERT_HEAD = (
    f"INSERT INTO {Event._meta.db_table} (device_id, channel, ts, received_at, state, value)"  # noqa: S608
    " SELECT CAST(v.column1 AS BIGINT), v.column2, v.column3, v.column4,"
    " CAST(v.column5 AS VARCHAR(32)), CAST(v.column6 AS DOUBLE PRECISION) FROM (VALUES "
)
_INSERT_TAIL = (
    f") AS v WHERE NOT EXISTS (SELECT 1 FROM {Tenant._meta.db_table} t"  # noqa: S608
    "  WHERE t.id = %s AND t.raw_floor IS NOT NULL AND t.raw_floor > v.column3)"
    " ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING channel, ts"
)
_ROW = "(" + ", ".join(["%s"] * _COLUMNS) + ")"


def _rows_per_statement() -> int:
    if connection.vendor == "sqlite":  # the real limit, not Django's conservative 999
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    else:
        limit = 65535  # PostgreSQL's bind parameter limit
    return (limit - 1) // _COLUMNS


def _insert(
    *, device: Device, readings: Sequence[Reading], received_at: datetime
) -> set[tuple[str, datetime]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the (channel, ts) keys that were stored."""
    adapt = connection.ops.adapt_datetimefield_value
    received, stored = adapt(received_at), set()
    step = _rows_per_statement()
    with connection.cursor() as cursor:
        for start in range(0, len(readings), step):
            chunk = readings[start : start + step]
            params: list = []
            for reading in chunk:
                params += [
                    device.pk,
                    reading.channel,
                    adapt(reading.ts),
                    received,
                    reading.state,
                    reading.value,
                ]
            params.append(device.tenant_id)
            cursor.execute(_INSERT_HEAD + ", ".join([_ROW] * len(chunk)) + _INSERT_TAIL, params)
            stored.update((channel, _as_utc(ts)) for channel, ts in cursor.fetchall())
    return stored


def _as_utc(ts: datetime | str) -> datetime:
    """A ts as RETURNING gives it (SQLite: naive UTC, or text) as an aware datetime."""
    moment = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _channel_kinds(*, device: Device, firsts: dict[str, Reading]) -> dict[str, str]:
    """Each channel's kind; a channel's first event creates it and fixes the kind."""
    channels = Channel.objects.for_device(device).filter(name__in=firsts)
    kinds = dict(channels.values_list("name", "kind"))
    missing = [name for name in firsts if name not in kinds]
    if missing:
        # Two first events racing: the loser's insert is skipped (it waits for the
        # winner's commit on PostgreSQL), and it then reads the winner's kind.
        Channel.objects.bulk_create(
            [Channel(device=device, name=name, kind=firsts[name].kind) for name in missing],
            ignore_conflicts=True,
        )
        kinds.update(channels.filter(name__in=missing).values_list("name", "kind"))
    return kinds


def _stored_readings(*, device: Device, readings: Sequence[Reading]) -> dict[tuple, tuple]:
    """(channel, ts) → (state, value) of what is already stored at those instants."""
    rows = (
        Event.objects.for_device(device)
        .filter(channel__in={r.channel for r in readings}, ts__in={r.ts for r in readings})
        .values_list("channel", "ts", "state", "value")
    )
    return {(channel, ts): (state, value) for channel, ts, state, value in rows}


def _current_state_advance(*, device: Device, newest: dict[str, Reading]) -> None:
    """Make each channel's newest stored reading its current state, if newer than the one kept."""
    for name, reading in newest.items():
        Channel.objects.for_device(device).filter(name=name).filter(
            Q(last_ts__isnull=True) | Q(last_ts__lt=reading.ts)
        ).update(last_ts=reading.ts, last_state=reading.state, last_value=reading.value)


def _conflict(reading: Reading) -> Outcome:
    message = errors.CONFLICT.format(channel=reading.channel, ts=reading.ts.isoformat())
    return Outcome(IngestResult.CONFLICT, message)


def _kind_mismatch(reading: Reading, kind: str) -> Outcome:
    message = errors.KIND_MISMATCH.format(
        channel=reading.channel,
        kind=ChannelKind(kind).label.lower(),
        other=reading.kind.label.lower(),
    )
    return Outcome(IngestResult.CONFLICT, message)


def _too_old(floor: datetime) -> Outcome:
    return Outcome(
        IngestResult.REJECTED, errors.TS_BEFORE_RETENTION.format(floor=floor.isoformat())
    )


def _same(a: Reading, b: Reading) -> bool:
    return (a.state, a.value) == (b.state, b.value)


def _store(
    *, device: Device, readings: dict[int, Reading], received_at: datetime
) -> dict[int, Outcome]:
    """Insert readings of distinct (channel, ts); the outcome of each, by its index."""
    outcomes: dict[int, Outcome] = {}
    firsts: dict[str, Reading] = {}
    for reading in readings.values():
        firsts.setdefault(reading.channel, reading)
    kinds = _channel_kinds(device=device, firsts=firsts)
    fitting = {}
    for index, reading in readings.items():
        if kinds[reading.channel] == reading.kind:
            fitting[index] = reading
        else:
            outcomes[index] = _kind_mismatch(reading, kinds[reading.channel])
    stored_keys = _insert(device=device, readings=list(fitting.values()), received_at=received_at)
    skipped = {i: r for i, r in fitting.items() if (r.channel, r.ts) not in stored_keys}
    existing = _stored_readings(device=device, readings=list(skipped.values())) if skipped else {}
    newest: dict[str, Reading] = {}
    for index, reading in fitting.items():
        if index not in skipped:
            outcomes[index] = Outcome(IngestResult.STORED)
            if reading.channel not in newest or newest[reading.channel].ts < reading.ts:
                newest[reading.channel] = reading
            continue
        stored = existing.get((reading.channel, reading.ts))
        if stored is None:  # skipped by the raw floor, raised since the request began
            device.tenant.refresh_from_db(fields=["raw_floor"])
            outcomes[index] = _too_old(device.tenant.raw_floor)
        elif stored == (reading.state, reading.value):
            outcomes[index] = Outcome(IngestResult.DUPLICATE)
        else:
            outcomes[index] = _conflict(reading)
    _current_state_advance(device=device, newest=newest)
    return outcomes


def events_ingest_batch(
    *, device: Device, items: Sequence[Reading | str], received_at: datetime
) -> list[Outcome]:
    """Store a batch of `device`'s readings in one transaction; an item that is a string is
    an event the parser already rejected, for that reason. Idempotent on (device, channel,
    ts): a repeat is `duplicate`, another reading at a stored instant `conflict`."""
    outcomes: dict[int, Outcome] = {}
    floor = device.tenant.raw_floor
    first_of: dict[tuple[str, datetime], int] = {}  # the first report of each instant
    for index, item in enumerate(items):
        if isinstance(item, str):
            outcomes[index] = Outcome(IngestResult.REJECTED, item)
        elif floor is not None and item.ts < floor:
            outcomes[index] = _too_old(floor)
        else:
            first_of.setdefault((item.channel, item.ts), index)
    if first_of:
        with transaction.atomic():
            firsts = {index: items[index] for index in first_of.values()}
            outcomes.update(_store(device=device, readings=firsts, received_at=received_at))
    # A later report of an instant already in the batch: a repeat answers like the first
    # (a stored first makes it a duplicate); another reading is a conflict.
    for index, item in enumerate(items):
        if index in outcomes:
            continue
        first = first_of[(item.channel, item.ts)]
        if not _same(items[first], item):
            outcomes[index] = _conflict(item)
        elif outcomes[first].result == IngestResult.STORED:
            outcomes[index] = Outcome(IngestResult.DUPLICATE)
        else:
            outcomes[index] = outcomes[first]
    device_note_seen(device=device, now=received_at)
    return [outcomes[index] for index in range(len(items))]


def event_ingest(*, device: Device, reading: Reading, received_at: datetime) -> IngestResult:
    """Store one reading of `device`; idempotent on (device, channel, ts), 409 on a clash."""
    (outcome,) = events_ingest_batch(device=device, items=[reading], received_at=received_at)
    if outcome.result == IngestResult.CONFLICT:
        raise Conflict(outcome.error)
    if outcome.result == IngestResult.REJECTED:
        raise BadInput(outcome.error)
    return outcome.result


def write_quota_take(*, device: Device) -> Usage:
    """Count one write of `device` against its tenant's write rate (a batch is one write);
    over the rate raises a 429 that names it."""
    rate = device.tenant.write_rate
    message = errors.WRITE_RATE_EXCEEDED.format(
        device_id=device.device_id, described=rate_describe(rate), rate=rate
    )
    return limit_take(group="device-writes", value=str(device.pk), rate=rate, message=message)
