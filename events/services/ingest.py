"""Writes for events: idempotent ingest that keeps each channel's current state."""

from __future__ import annotations

from datetime import datetime
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


class IngestResult(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


# Table names come from the models, never from input. The tenant's raw floor
# is checked in the statement itself, so an insert racing the purge job's
# raising of the floor cannot store an event the purge would then delete
# without summarising it.
_INSERT_EVENT_SQL = (
    f"INSERT INTO {Event._meta.db_table} (device_id, channel, ts, received_at, state, value)"  # noqa: S608
    " SELECT CAST(%s AS BIGINT), %s, %s, %s, CAST(%s AS VARCHAR(32)), CAST(%s AS DOUBLE PRECISION)"
    f" WHERE NOT EXISTS (SELECT 1 FROM {Tenant._meta.db_table} t"
    "  WHERE t.id = %s AND t.raw_floor IS NOT NULL AND t.raw_floor > %s)"
    " ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING id"
)


def _channel_kind(*, device: Device, reading: Reading) -> str:
    """The channel's kind; its first event creates the channel and fixes the kind."""
    channels = Channel.objects.for_device(device).filter(name=reading.channel)
    kind = channels.values_list("kind", flat=True).first()
    if kind is None:
        # Two first events racing: the loser's insert is skipped (it waits for the
        # winner's commit on PostgreSQL), and it then reads the winner's kind.
        Channel.objects.bulk_create(
            [Channel(device=device, name=reading.channel, kind=reading.kind)],
            ignore_conflicts=True,
        )
        kind = channels.values_list("kind", flat=True).get()
    return kind


def _insert_event(*, device: Device, reading: Reading, received_at: datetime) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: True when a new row was stored."""
    adapt = connection.ops.adapt_datetimefield_value
    ts = adapt(reading.ts)
    params = [
        device.pk,
        reading.channel,
        ts,
        adapt(received_at),
        reading.state,
        reading.value,
        device.tenant_id,
        ts,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_EVENT_SQL, params)
        return cursor.fetchone() is not None


def _refuse_before_floor(*, device: Device, reading: Reading) -> None:
    floor = device.tenant.raw_floor
    if floor is not None and reading.ts < floor:
        raise BadInput(errors.TS_BEFORE_RETENTION.format(floor=floor.isoformat()))


def _refuse_unless_same(*, device: Device, reading: Reading) -> None:
    """A skipped insert is a duplicate only if the stored reading is the same."""
    stored = (
        Event.objects.for_device(device)
        .filter(channel=reading.channel, ts=reading.ts)
        .values_list("state", "value")
        .first()
    )
    if stored is None:  # skipped by the raw floor, raised since the request began
        device.tenant.refresh_from_db(fields=["raw_floor"])
        _refuse_before_floor(device=device, reading=reading)
    if stored != (reading.state, reading.value):
        raise Conflict(errors.CONFLICT.format(channel=reading.channel, ts=reading.ts.isoformat()))


def _current_state_advance(*, device: Device, reading: Reading) -> None:
    """Make `reading` the channel's current state if it is the newest seen."""
    Channel.objects.for_device(device).filter(name=reading.channel).filter(
        Q(last_ts__isnull=True) | Q(last_ts__lt=reading.ts)
    ).update(last_ts=reading.ts, last_state=reading.state, last_value=reading.value)


def event_ingest(*, device: Device, reading: Reading, received_at: datetime) -> IngestResult:
    """Store one reading of `device`; idempotent on (device, channel, ts), 409 on a clash."""
    _refuse_before_floor(device=device, reading=reading)
    with transaction.atomic():
        kind = _channel_kind(device=device, reading=reading)
        if kind != reading.kind:
            raise Conflict(
                errors.KIND_MISMATCH.format(
                    channel=reading.channel,
                    kind=ChannelKind(kind).label.lower(),
                    other=reading.kind.label.lower(),
                )
            )
        if _insert_event(device=device, reading=reading, received_at=received_at):
            _current_state_advance(device=device, reading=reading)
            result = IngestResult.STORED
        else:
            _refuse_unless_same(device=device, reading=reading)
            result = IngestResult.DUPLICATE
    device_note_seen(device=device, now=received_at)
    return result
