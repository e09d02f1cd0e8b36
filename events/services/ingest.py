"""Writes for events: idempotent ingest, one event or a batch, keeping each channel's
current state."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Q
from psycopg.types.numeric import Int8

from accounts.models import Tenant
from devices.models import Device
from devices.services import device_note_seen
from events import errors
from events.models import Channel, ChannelKind, Event
from events.serializers import Reading
from telemetry.errors import BadInput, Conflict
from telemetry.ratelimit import Counted, Usage, Window, limit_take, rate_describe, window_of


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
_ROW = "(" + ", ".join(["%s"] * _COLUMNS) + ")"
_EVENTS, _CHANNELS, _TENANTS = (model._meta.db_table for model in (Event, Channel, Tenant))
# One statement stores a batch: each reading is inserted only if its channel
# exists with the reading's kind (a channel's first event fixes it) and its ts is
# not below the tenant's raw floor (checked here, so an insert racing the purge's
# raising of the floor cannot store an event the purge would delete
# unsummarised); a repeat of a stored instant is skipped by the unique key.
# What was skipped is explained afterwards, off the common path. Table names
# come from the models, never from input.
#
# SQLite: the readings as a VALUES list (it names the columns column1..N).
_INSERT = (
    f"INSERT INTO {_EVENTS} (device_id, channel, ts, received_at, state, value)"
    " SELECT CAST(v.column1 AS BIGINT), v.column2, v.column3, v.column4,"
    " CAST(v.column5 AS VARCHAR(32)), CAST(v.column6 AS DOUBLE PRECISION)"
    " FROM (VALUES {rows}) AS v"
    f" JOIN {_CHANNELS} ch ON ch.device_id = CAST(v.column1 AS BIGINT) AND ch.name = v.column2"
    "  AND ch.kind = CASE WHEN v.column5 IS NULL THEN 'numeric' ELSE 'state' END"
    f" WHERE NOT EXISTS (SELECT 1 FROM {_TENANTS} t"
    "  WHERE t.id = %s AND t.raw_floor IS NOT NULL AND t.raw_floor > v.column3)"
    " ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING channel, ts, state, value"
)
# PostgreSQL: the readings as four arrays, so the text is the same whatever the batch
# size: parsed and planned once per connection (a prepared statement), where a VALUES
# list of 6 parameters a reading cost more to parse and plan than to run. The arrays
# travel in binary (%b), which psycopg dumps ten times faster than text; states stay
# text (%s), untyped whether or not a batch has any, so the statement's parameter types
# vary only with whether it has a value. The plan is generic (it cannot know the batch
# size) and takes nested loops: so the floor and the device's channel kinds (one jsonb
# object, looked up by name) are read once, not joined, and `newest` is materialized,
# or each would cost the batch size times the device's channels. The statement also
# advances each channel's current state (one round trip, atomic without BEGIN/COMMIT):
# concurrent writers of a channel queue on its row lock and re-check `last_ts`, so the
# newest reading wins. It answers the ordinals of the readings it skipped, usually none.
_INSERT_AND_ADVANCE = (
    "WITH input AS (SELECT * FROM unnest(%(channels)b::text[], %(tss)b::timestamptz[],"
    "  %(states)s::varchar(32)[], %(values)b::double precision[])"
    "  WITH ORDINALITY AS r(channel, ts, state, value, ordinal)),"
    " stored AS ("
    f"INSERT INTO {_EVENTS} (device_id, channel, ts, received_at, state, value)"
    " SELECT %(device)s, r.channel, r.ts, %(received_at)s, r.state, r.value FROM input r"
    f" WHERE r.ts >= COALESCE((SELECT t.raw_floor FROM {_TENANTS} t WHERE t.id = %(tenant)s),"
    "  '-infinity')"
    "  AND (SELECT jsonb_object_agg(ch.name, ch.kind)"
    f"   FROM {_CHANNELS} ch WHERE ch.device_id = %(device)s) ->> r.channel"
    "   = CASE WHEN r.state IS NULL THEN 'numeric' ELSE 'state' END"
    " ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING channel, ts, state, value),"
    " newest AS MATERIALIZED (SELECT DISTINCT ON (channel) channel, ts, state, value"
    "  FROM stored ORDER BY channel, ts DESC),"
    f" advanced AS (UPDATE {_CHANNELS} c SET last_ts = n.ts, last_state = n.state,"
    "  last_value = n.value FROM newest n WHERE c.device_id = %(device)s AND c.name = n.channel"
    "  AND (c.last_ts IS NULL OR c.last_ts < n.ts))"
    " SELECT r.ordinal FROM input r"
    "  WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE s.channel = r.channel AND s.ts = r.ts)"
)


class _PreparedCursor(psycopg.Cursor):
    """Binds parameters server-side and prepares each statement on its first run (Django's
    own cursors bind client-side, which PostgreSQL must parse and plan every time)."""

    def execute(
        self,
        query: str,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> _PreparedCursor:
        return super().execute(query, params, prepare=True, binary=binary)


class _StatementDebugWrapper(CursorDebugWrapper):
    """Logs the statement's own text: psycopg keeps none for a prepared statement, where
    Django's log would read it."""

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


def _insert_postgres(
    *, device: Device, readings: Sequence[Reading], received_at: datetime
) -> list[int]:
    params = {
        # Int8: psycopg would send a small int as int2, a statement of its own to prepare.
        "device": Int8(device.pk),
        "tenant": Int8(device.tenant_id),
        "received_at": received_at,
        "channels": [reading.channel for reading in readings],
        "tss": [reading.ts for reading in readings],
        "states": [reading.state for reading in readings],
        # float(): psycopg refuses a list of ints and floats mixed, and types an int list
        # otherwise (another statement to prepare).
        "values": [None if reading.value is None else float(reading.value) for reading in readings],
    }
    # Django's cursor first: it connects (or replaces a connection that failed its health
    # check). Ours goes in Django's wrapper: error translation, execute wrappers, query log.
    wrap = _StatementDebugWrapper if connection.queries_logged else CursorWrapper
    with connection.cursor(), wrap(_PreparedCursor(connection.connection), connection) as cursor:
        cursor.execute(_INSERT_AND_ADVANCE, params)
        return [ordinal - 1 for (ordinal,) in cursor.fetchall()]


def _rows_per_statement() -> int:
    # The real limit, not Django's conservative 999.
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return (limit - 1) // _COLUMNS


def _insert(*, device: Device, readings: Sequence[Reading], received_at: datetime) -> list[int]:
    """Store what fits its channel and the floor, advancing each channel's current state;
    the positions in `readings` of those it skipped."""
    if connection.vendor == "postgresql":
        return _insert_postgres(device=device, readings=readings, received_at=received_at)
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
            cursor.execute(_INSERT.format(rows=", ".join([_ROW] * len(chunk))), params)
            rows = cursor.fetchall()
            stored.update((channel, _as_utc(ts)) for channel, ts, *_ in rows)
            _current_state_advance(device=device, rows=rows)
    return [position for position, reading in enumerate(readings) if _key(reading) not in stored]


def _as_utc(ts: datetime | str) -> datetime:
    """A ts as RETURNING gives it (SQLite: naive UTC, or text) as an aware datetime."""
    moment = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _key(reading: Reading) -> tuple[str, datetime]:
    """(channel, ts in UTC): how the database answers, whatever zone the ts was given in."""
    return reading.channel, reading.ts.astimezone(UTC)


def _current_state_advance(*, device: Device, rows: Sequence[tuple]) -> None:
    """SQLite: make each channel's newest stored reading its current state, if newer
    than the one kept (inside the insert's transaction)."""
    newest: dict[str, tuple] = {}
    for channel, ts, state, value in rows:
        ts = _as_utc(ts)
        if channel not in newest or newest[channel][0] < ts:
            newest[channel] = (ts, state, value)
    for name, (ts, state, value) in newest.items():
        Channel.objects.for_device(device).filter(name=name).filter(
            Q(last_ts__isnull=True) | Q(last_ts__lt=ts)
        ).update(last_ts=ts, last_state=state, last_value=value)


def _channel_kinds_ensure(*, device: Device, readings: Sequence[Reading]) -> dict[str, str]:
    """Each named channel's kind, creating those that do not exist yet with the kind of
    their first reading here. Racing first events: the loser's create is skipped and it
    reads the winner's kind."""
    firsts: dict[str, Reading] = {}
    for reading in readings:
        firsts.setdefault(reading.channel, reading)
    channels = Channel.objects.for_device(device)
    kinds = dict(channels.filter(name__in=firsts).values_list("name", "kind"))
    missing = [name for name in firsts if name not in kinds]
    if missing:
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


_STORED = Outcome(IngestResult.STORED)


def _store(
    *, device: Device, readings: dict[int, Reading], received_at: datetime
) -> dict[int, Outcome]:
    """Insert readings of distinct (channel, ts); the outcome of each, by its index.

    The common case, channels that exist and new instants, is one statement; what it
    skipped is then explained: a new channel (created, then inserted), another kind
    than the channel's, a repeat or a clash with what is stored, the raw floor."""
    indexes = list(readings)
    positions = _insert(device=device, readings=list(readings.values()), received_at=received_at)
    outcomes = dict.fromkeys(indexes, _STORED)
    if not positions:
        return outcomes
    # A new channel (ours, or one a racing writer is creating): make sure each exists,
    # then insert once more; a repeat or a clash is skipped again.
    skipped = [readings[indexes[position]] for position in positions]
    kinds = _channel_kinds_ensure(device=device, readings=skipped)
    again = _insert(device=device, readings=skipped, received_at=received_at)
    skipped_indexes = [indexes[positions[position]] for position in again]
    skipped = [readings[index] for index in skipped_indexes]
    existing = _stored_readings(device=device, readings=skipped) if skipped else {}
    for index, reading in zip(skipped_indexes, skipped, strict=True):
        if kinds[reading.channel] != reading.kind:
            outcomes[index] = _kind_mismatch(reading, kinds[reading.channel])
        elif (found := existing.get(_key(reading))) is None:
            # skipped by the raw floor, raised since the request began
            device.tenant.refresh_from_db(fields=["raw_floor"])
            outcomes[index] = _too_old(device.tenant.raw_floor)
        elif found == (reading.state, reading.value):
            outcomes[index] = Outcome(IngestResult.DUPLICATE)
        else:
            outcomes[index] = _conflict(reading)
    return outcomes


def events_ingest_batch(
    *,
    device: Device,
    items: Sequence[Reading | str],
    received_at: datetime,
    seen_due: bool = True,
) -> list[Outcome]:
    """Store a batch of `device`'s readings in one transaction; an item that is a string is
    an event the parser already rejected, for that reason. Idempotent on (device, channel,
    ts): a repeat is `duplicate`, another reading at a stored instant `conflict`.
    `seen_due`: False when the caller knows the device was noted seen this minute."""
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
        firsts = {index: items[index] for index in first_of.values()}
        # PostgreSQL: each statement is atomic on its own (insert and current state
        # together); SQLite advances the current state in a second statement.
        atomic = transaction.atomic() if connection.vendor == "sqlite" else nullcontext()
        with atomic:
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
    if seen_due:
        device_note_seen(device=device, now=received_at)
    return [outcomes[index] for index in range(len(items))]


def event_ingest(
    *, device: Device, reading: Reading, received_at: datetime, seen_due: bool = True
) -> IngestResult:
    """Store one reading of `device`; idempotent on (device, channel, ts), 409 on a clash."""
    (outcome,) = events_ingest_batch(
        device=device, items=[reading], received_at=received_at, seen_due=seen_due
    )
    if outcome.result == IngestResult.CONFLICT:
        raise Conflict(outcome.error)
    if outcome.result == IngestResult.REJECTED:
        raise BadInput(outcome.error)
    return outcome.result


WRITES_GROUP = "device-writes"


def write_window(*, device_pk: int, rate: str) -> Window:
    """The current window of a device's writes at its tenant's `rate`."""
    return window_of(group=WRITES_GROUP, value=str(device_pk), rate=rate)


def write_quota_take(*, device: Device, counted: Counted | None = None) -> Usage:
    """Count one write of `device` against its tenant's write rate (a batch is one write),
    unless `counted` says it was counted already (in `write_window`); over the rate raises
    a 429 that names it."""
    rate = device.tenant.write_rate
    message = errors.WRITE_RATE_EXCEEDED.format(
        device_id=device.device_id, described=rate_describe(rate), rate=rate
    )
    return limit_take(
        group=WRITES_GROUP, value=str(device.pk), rate=rate, message=message, counted=counted
    )
