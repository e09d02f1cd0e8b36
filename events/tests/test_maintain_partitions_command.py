"""The maintain_partitions command, its task and its place in the beat schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from events import tasks
from events.services.partitions import partitions_list

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def run(*args) -> list[str]:
    out = StringIO()
    call_command("maintain_partitions", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def day(offset: int) -> str:
    return f"events_event_p{TODAY + timedelta(days=offset):%Y_%m_%d}"


def test_beat_runs_the_maintenance_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["maintain-partitions"]

    assert entry["task"] == tasks.maintain_partitions.name
    assert entry["schedule"] == crontab(minute=41)


@pytest.mark.sqlite
def test_on_sqlite_there_is_nothing_to_do(db):
    assert run() == ["Nothing to do: on SQLite the events table is one plain table."]


@pytest.mark.postgres
def test_it_reports_the_partitions_it_made(db):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {day(13)}, {day(14)}")

    lines = run()

    assert lines[0] == "Moved 0 rows out of the default partition."
    assert lines[1].startswith("Created ") and f": {day(13)}, {day(14)}" in lines[1]


@pytest.mark.postgres
def test_it_lists_every_partition_with_its_day(db):
    lines = run("--list")

    assert lines[2:] == [
        f"{p.name}: {p.start.isoformat()} to {p.end.isoformat()}" for p in partitions_list()
    ]
    assert lines[2] == f"{day(0)}: {TODAY.isoformat()} to {(TODAY + timedelta(days=1)).isoformat()}"


@pytest.mark.postgres
def test_the_task_runs_the_maintenance(db):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {day(14)}")

    tasks.maintain_partitions()

    assert day(14) in {p.name for p in partitions_list()}
