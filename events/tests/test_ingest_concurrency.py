"""Racing writers: the unique constraints decide, never a read-then-write check."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import close_old_connections, connection

from events.models import Channel, Event
from events.serializers import Reading
from events.services import event_ingest
from telemetry.errors import Conflict

TS = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)


def race(device, readings: list[Reading]) -> list[str]:
    """Ingest each reading in its own thread, all released at once."""
    barrier = threading.Barrier(len(readings))
    outcomes: list[str] = []

    def worker(reading: Reading) -> None:
        try:
            barrier.wait()
            result = event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))
            outcomes.append(str(result))
        except Conflict:
            outcomes.append("conflict")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(reading,)) for reading in readings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_the_same_report_racing_eight_times_is_stored_once(device):
    outcomes = race(device, [Reading("pump", TS, state="ON")] * 8)

    assert outcomes == ["duplicate"] * 7 + ["stored"]
    assert Event.objects.filter(device=device).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_states_racing_for_one_instant_store_one_and_refuse_the_other(device):
    outcomes = race(device, [Reading("pump", TS, state="ON"), Reading("pump", TS, state="OFF")])

    assert outcomes == ["conflict", "stored"]
    assert Event.objects.filter(device=device).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_kinds_racing_for_a_new_channel_fix_one_kind(device):
    first_events = [
        Reading("probe", TS, state="ON"),
        Reading("probe", TS.replace(minute=51), value=1.5),
    ]
    outcomes = race(device, first_events)

    channel = Channel.objects.get(device=device, name="probe")
    stored = Event.objects.get(device=device)
    assert outcomes == ["conflict", "stored"]
    assert (stored.state is not None) == (channel.kind == "state")
    assert channel.last_ts == stored.ts


@pytest.mark.postgres
def test_the_postgres_leg_really_runs_on_postgresql(db):
    assert connection.vendor == "postgresql"
