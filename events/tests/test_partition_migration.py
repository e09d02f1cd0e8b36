"""PostgreSQL: migration 0003 converts an unpartitioned events table with data, and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import IntegrityError

from events.models import Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("events", "0002_rollups")]
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
HORIZON = TODAY + timedelta(days=14)
FAR_PAST = datetime(2001, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
FAR_FUTURE = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
COLUMNS = ("id", "device_id", "channel", "ts", "received_at", "state", "value")


def migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def rows() -> list[tuple]:
    return list(Event.objects.order_by("id").values_list(*COLUMNS))


def is_partitioned() -> bool:
    return sql("SELECT relkind FROM pg_class WHERE oid = 'events_event'::regclass") == [("p",)]


@pytest.fixture
def unpartitioned():
    """The events table as migration 0002 left it; afterwards a fresh partitioned one again
    (children made for this test's old days would otherwise outlive it)."""
    migrate(BEFORE)
    assert not is_partitioned()
    yield
    migrate(latest())
    sql("TRUNCATE events_event")
    migrate(BEFORE)
    migrate(latest())


@pytest.fixture
def history(unpartitioned, device, other_device) -> list[tuple]:
    """Events over 65 days, a far past and a far future one, of two tenants' devices,
    stored in the plain table; a few deleted so the id sequence is ahead of the rows."""
    moments = [TODAY + timedelta(days=offset, hours=offset % 24) for offset in range(-65, 4, 4)]
    moments += [FAR_PAST, FAR_FUTURE, TODAY + timedelta(minutes=1, microseconds=7)]
    events = []
    for n, ts in enumerate(moments):
        received = ts + timedelta(seconds=n)
        events.append(Event(device=device, channel="pump", ts=ts, received_at=received,
                            state="ON" if n % 2 else "OFF"))  # fmt: skip
        events.append(Event(device=other_device, channel="temperature", ts=ts,
                            received_at=received, value=n + 0.25))  # fmt: skip
    Event.objects.bulk_create(events)
    Event.objects.filter(pk__in=[events[-1].pk, events[-2].pk]).delete()
    return rows()


def test_converting_a_table_with_data_keeps_every_row_exactly(history):
    [(last_id,)] = sql("SELECT last_value FROM events_event_id_seq")

    migrate(latest())

    assert is_partitioned()
    assert rows() == history
    assert len(history) == 40
    assert last_id == history[-1][0] + 2  # the two deleted rows' ids are not reused
    homes = dict(sql("SELECT id, tableoid::regclass::text FROM events_event"))
    for event_id, _, _, ts, *_ in history:
        expected = f"events_event_p{ts:%Y_%m_%d}" if ts < HORIZON else "events_event_default"
        assert homes[event_id] == expected, ts


def test_after_converting_the_constraints_hold_and_ids_continue(history, device):
    [(last_id,)] = sql("SELECT last_value FROM events_event_id_seq")
    migrate(latest())
    pump_ts = history[0][3]

    added = Event.objects.create(device=device, channel="pump", ts=TODAY + timedelta(hours=3),
                                 received_at=TODAY, state="OFF")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(device=device, channel="pump", ts=pump_ts, received_at=TODAY,
                             state="ON")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(device=device, channel="x", ts=TODAY, received_at=TODAY,
                             state="ON", value=1.0)  # fmt: skip

    assert added.pk == last_id + 1
    assert Event.objects.get(pk=added.pk).state == "OFF"
    assert Event.objects.filter(ts=pump_ts).count() == 2  # the pump and the temperature


def test_migrating_back_returns_the_rows_to_a_plain_table(history):
    migrate(latest())
    migrate(BEFORE)

    assert not is_partitioned()
    assert rows() == history
    assert sql("SELECT count(*) FROM partman.part_config") == [(0,)]
    assert sql("SELECT attidentity FROM pg_attribute WHERE attrelid = 'events_event'::regclass"
               " AND attname = 'id'") == [("d",)]  # fmt: skip
