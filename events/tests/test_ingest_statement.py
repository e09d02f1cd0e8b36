"""The ingest statement itself (events_ingest_batch): what one statement stores and
answers, and, on PostgreSQL, its prepared statement across failures and rollbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant
from events import errors
from events.models import Channel, Event
from events.serializers import BATCH_MAX_EVENTS, Reading
from events.services import IngestResult, events_ingest_batch

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
STORED = IngestResult.STORED


def ingest(device, readings: list[Reading]) -> list[str]:
    outcomes = events_ingest_batch(device=device, items=readings, received_at=T0)
    return [outcome.error or outcome.result for outcome in outcomes]


def stored(device) -> list[tuple]:
    rows = Event.objects.filter(device=device).order_by("channel", "ts")
    return list(rows.values_list("channel", "ts", "state", "value"))


def as_rows(readings: list[Reading]) -> list[tuple]:
    return sorted((r.channel, r.ts, r.state, r.value) for r in readings)


def mixed(count: int, start: datetime = T0) -> list[Reading]:
    """Readings of one known channel and two new ones, a state and a numeric, interleaved."""
    readings = []
    for i in range(count):
        ts = start + timedelta(seconds=i // 3)
        if i % 3 == 0:
            readings.append(Reading("temperature", ts, value=20 + i / 3))  # 1/3: no exact decimal
        elif i % 3 == 1:
            readings.append(Reading("pump", ts, state=("ON", "mode 2")[i % 2]))
        else:
            readings.append(Reading("humidity", ts, value=-1e15 + i))
    return readings


def test_a_batch_at_the_limit_over_known_and_new_channels_stores_every_reading(device):
    earlier = Reading("temperature", T0 - timedelta(days=1), value=1.0)
    ingest(device, [earlier])  # temperature is known; pump and humidity are new
    readings = mixed(BATCH_MAX_EVENTS)

    assert ingest(device, readings) == [STORED] * BATCH_MAX_EVENTS
    assert stored(device) == as_rows([earlier, *readings])


def test_each_channels_current_state_is_its_newest_reading_of_the_batch(device):
    readings = mixed(BATCH_MAX_EVENTS)
    ingest(device, readings)

    newest = {}
    for reading in readings:
        newest[reading.channel] = (reading.ts, reading.state, reading.value)
    channels = Channel.objects.filter(device=device).values_list(
        "name", "last_ts", "last_state", "last_value"
    )
    assert {name: tuple(last) for name, *last in channels} == newest


def test_a_batch_answers_each_reading_stored_duplicate_conflict_or_other_kind(device):
    ingest(device, [Reading("pump", T0, state="ON"), Reading("temperature", T0, value=1.5)])
    second = T0 + timedelta(seconds=1)

    answers = ingest(
        device,
        [
            Reading("pump", T0, state="ON"),
            Reading("pump", second, state="OFF"),
            Reading("temperature", T0, value=2.5),
            Reading("temperature", second, state="ON"),
            Reading("fan", second, value=3.0),
        ],
    )

    assert answers == [
        IngestResult.DUPLICATE,
        STORED,
        errors.CONFLICT.format(channel="temperature", ts=T0.isoformat()),
        errors.KIND_MISMATCH.format(channel="temperature", kind="numeric", other="state"),
        STORED,
    ]
    assert len(stored(device)) == 4


def test_a_ts_given_in_another_zone_is_stored_and_its_repeat_is_a_duplicate(device):
    ts = T0.astimezone(timezone(timedelta(hours=2)))

    assert ingest(device, [Reading("pump", ts, state="ON")]) == [STORED]
    assert ingest(device, [Reading("pump", T0, state="ON")]) == [IngestResult.DUPLICATE]
    assert stored(device) == [("pump", T0, "ON", None)]


def test_the_statement_takes_a_reading_at_the_floor_and_refuses_one_before_it(device):
    Tenant.objects.filter(pk=device.tenant_id).update(raw_floor=T0)  # device.tenant is stale

    answers = ingest(
        device,
        [
            Reading("pump", T0, state="ON"),
            Reading("pump", T0 - timedelta(milliseconds=1), state="ON"),
        ],
    )

    assert answers == [STORED, errors.TS_BEFORE_RETENTION.format(floor=T0.isoformat())]
    assert stored(device) == [("pump", T0, "ON", None)]


def test_a_rolled_back_transaction_around_it_leaves_no_event_and_no_current_state(device):
    ingest(device, [Reading("pump", T0, state="ON")])

    with pytest.raises(RuntimeError), transaction.atomic():
        assert ingest(device, [Reading("pump", T0 + timedelta(hours=1), state="OFF")]) == [STORED]
        raise RuntimeError("rolled back")

    assert stored(device) == [("pump", T0, "ON", None)]
    assert Channel.objects.get(device=device, name="pump").last_state == "ON"
    assert ingest(device, [Reading("pump", T0 + timedelta(hours=2), state="OFF")]) == [STORED]


def test_a_failing_statement_raises_djangos_integrity_error_and_the_next_one_stores(device):
    ingest(device, [Reading("pump", T0, state="ON")])
    both = Reading("pump", T0 + timedelta(seconds=1), state="ON", value=1.0)  # breaks the check

    with pytest.raises(IntegrityError), transaction.atomic():
        ingest(device, [both])

    assert ingest(device, [Reading("pump", T0 + timedelta(seconds=2), state="OFF")]) == [STORED]
    assert len(stored(device)) == 2


def test_each_run_of_the_statement_is_in_djangos_query_log_with_its_text(device):
    with CaptureQueriesContext(connection) as captured:
        ingest(device, [Reading("temperature", T0, value=1.0)])  # a new channel: runs it twice

    assert all(query["sql"] for query in captured)
    assert sum("INSERT INTO events_event " in query["sql"] for query in captured) == 2


def prepared_ingest_statements() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s ORDER BY name",
            ["%unnest%"],
        )
        return cursor.fetchall()


@pytest.mark.postgres
def test_on_postgresql_batches_of_every_size_run_one_prepared_statement(device):
    before = dict(prepared_ingest_statements())  # the connection may have it from a test before
    ingest(device, [Reading("temperature", T0, value=1.0), Reading("pump", T0, state="ON")])
    for size in (1, 2, 1000):
        ingest(device, mixed(size, start=T0 + timedelta(hours=size)))

    [(name, runs)] = prepared_ingest_statements()
    assert runs - before.get(name, 0) == 6  # a batch naming a new channel runs it twice


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_prepared_statement_outlives_a_failure_outside_a_transaction(device):
    def both(ts: datetime) -> list[Reading]:  # the same parameter types each time
        return [Reading("pump", ts, state="ON"), Reading("temperature", ts, value=1.0)]

    ingest(device, both(T0))
    [(name, _)] = prepared_ingest_statements()

    with pytest.raises(IntegrityError):
        ingest(device, [Reading("pump", T0 + timedelta(seconds=1), state="ON", value=1.0)])

    assert ingest(device, both(T0 + timedelta(seconds=2))) == [STORED, STORED]
    assert [name for name, _ in prepared_ingest_statements()] == [name]
    assert len(stored(device)) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_lock_timeout_raises_djangos_operational_error_and_stores_nothing(
    device,
):
    ingest(device, [Reading("pump", T0, state="ON")])
    later = [Reading("pump", T0 + timedelta(hours=1), state="OFF")]
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    # Another session holds the channel's row, whose current state the statement advances.
    with psycopg.connect(**params, password=db["PASSWORD"] or None) as other:
        other.execute("SELECT 1 FROM events_channel WHERE device_id = %s FOR UPDATE", [device.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        try:
            with pytest.raises(OperationalError, match="lock timeout"):
                ingest(device, later)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert stored(device) == [("pump", T0, "ON", None)]
        other.rollback()

    assert ingest(device, later) == [STORED]
