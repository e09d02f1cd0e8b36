"""The rollup job: late events, repeated runs and racing workers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from events.buckets import Period
from events.models import JobCursor, Rollup
from events.selectors import rollups_window
from events.serializers import Reading
from events.services import event_ingest
from events.services.rollup import rollup_run

DAY = datetime(2026, 1, 10, tzinfo=UTC)
NOW = datetime(2026, 1, 12, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def post(device, ts, state, channel="pump", received_at=None):
    reading = Reading(channel, ts, state=state)
    event_ingest(device=device, reading=reading, received_at=received_at or datetime.now(UTC))


def answers(device):
    """Every hourly and daily answer of the two days, keyed by (period, bucket start)."""
    items = {}
    for period in Period:
        for item in rollups_window(
            device=device, period=period, start=DAY, end=NOW, channel=None, limit=5000, now=NOW
        ):
            items[(period, item["ts"])] = item
    return items


def stored_rows(device):
    return {
        (row["period"], row["bucket_start"]): row
        for row in Rollup.objects.filter(device=device).values()
    }


# Earlier reports that arrived long before the last run are not among the run's
# arrivals: the event after the late one is then looked up in the table.
@pytest.mark.parametrize("earlier_arrival", [None, NOW - timedelta(hours=1)])
def test_a_late_off_changes_exactly_the_buckets_it_affects(device, earlier_arrival):
    post(device, at(9, 50), "ON", received_at=earlier_arrival)
    post(device, at(13, 20), "ON", received_at=earlier_arrival)  # a repeated report
    rollup_run(now=NOW)
    before_answers, before_rows = answers(device), stored_rows(device)

    post(device, at(11, 10), "OFF")  # arrives late
    rollup_run(now=NOW)
    after_answers, after_rows = answers(device), stored_rows(device)

    changed = {key for key in after_answers if after_answers[key] != before_answers.get(key)}
    hour_ms = {h: int(at(h).timestamp() * 1000) for h in range(24)}
    day_ms = int(DAY.timestamp() * 1000)
    assert changed == {
        ("hour", hour_ms[11]),  # the OFF itself
        ("hour", hour_ms[12]),  # OFF carried through
        ("hour", hour_ms[13]),  # OFF until 13:20, and now a real change
        ("day", day_ms),
    }
    assert after_answers[("hour", hour_ms[12])]["state_seconds"] == {"OFF": 3600}
    assert after_answers[("hour", hour_ms[13])]["changes"] == 1
    assert before_answers[("hour", hour_ms[13])]["changes"] == 0
    assert after_answers[("day", day_ms)]["state_seconds"] == {"ON": 4800 + 38400, "OFF": 7800}
    unchanged = set(before_rows) - {("hour", at(13)), ("day", DAY)}
    assert all(after_rows[key] == before_rows[key] for key in unchanged)


def test_it_remembers_how_far_it_got(device):
    post(device, at(9), "ON")

    rollup_run(now=NOW)

    assert JobCursor.objects.get(name="rollup").position == NOW


def test_a_run_with_nothing_new_writes_nothing(device):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    event_ingest(device=device, reading=Reading("pump", at(9), state="ON"), received_at=an_hour_ago)
    assert rollup_run().rows == 2

    assert rollup_run().rows == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_give_the_rows_of_one(device):
    for minute in range(0, 600, 7):
        post(device, at(8) + timedelta(minutes=minute), "ON" if minute % 2 else "OFF")
    rollup_run(now=NOW)
    expected = {key: {**row, "id": None} for key, row in stored_rows(device).items()}
    Rollup.objects.all().delete()
    JobCursor.objects.all().delete()
    errors = []

    def worker():
        try:
            rollup_run(now=NOW)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    got = {key: {**row, "id": None} for key, row in stored_rows(device).items()}
    assert got == expected
