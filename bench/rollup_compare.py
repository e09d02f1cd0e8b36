"""Time the rollup job against a hand-written SQL GROUP BY of the same hour (issue 6).

Loads 1,000 devices' last hour of events (one numeric reading a minute each) into
the database named by DATABASE_URL, which must be a scratch PostgreSQL database:
the script migrates it and replaces its tenants and events. Then it times, several
times each, `rollup_run` as the scheduled job runs it (what arrived in the last
hour) and one `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` of count, min,
max and sum per device, channel and hour into a scratch table, and prints the
medians and their ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/rollup_compare.py [--devices 1000] [--prior-hours 0]

--prior-hours adds that many earlier hours of events, already rolled up, as a
device has by the end of a day: a rollup that re-reads its whole day pays for them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telemetry.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Tenant  # noqa: E402
from devices.models import Device  # noqa: E402
from events.models import Event, JobCursor  # noqa: E402
from events.services.rollup import ARRIVAL_OVERLAP, ROLLUP_CURSOR, rollup_run  # noqa: E402

BASELINE_SQL = """
    INSERT INTO bench_rollup (device_id, channel, bucket_start, count, min, max, sum)
    SELECT device_id, channel, date_trunc('hour', ts), COUNT(*), MIN(value), MAX(value), SUM(value)
    FROM {events} WHERE ts >= %s AND ts < %s
    GROUP BY device_id, channel, date_trunc('hour', ts)
    ON CONFLICT (device_id, channel, bucket_start) DO UPDATE SET count = EXCLUDED.count,
        min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum
"""


def load(*, devices: int, prior_hours: int, now: datetime) -> None:
    Tenant.objects.all().delete()  # cascades to devices, events and rollups
    JobCursor.objects.all().delete()
    tenant = Tenant.objects.create(slug="bench", name="Bench", time_zone="UTC")
    Device.objects.bulk_create(
        Device(tenant=tenant, device_id=f"bench-{n:04d}", name=f"bench-{n:04d}")
        for n in range(devices)
    )
    start = now - timedelta(hours=1 + prior_hours)
    for device in Device.objects.filter(tenant=tenant):
        Event.objects.bulk_create(
            Event(
                device=device,
                channel="temperature",
                ts=start + timedelta(minutes=minute),
                received_at=start + timedelta(minutes=minute),
                value=20.0 + (device.pk * 7 + minute) % 50 / 10,
            )
            for minute in range(60 * (1 + prior_hours))
        )
    if prior_hours:
        # The earlier hours were rolled up by earlier runs.
        JobCursor.objects.create(name=ROLLUP_CURSOR, position=start + ARRIVAL_OVERLAP)
        rollup_run(now=now - timedelta(hours=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def time_rollup(now: datetime) -> float:
    # As the scheduled run sees it: everything of the last hour arrived since its last run.
    JobCursor.objects.update_or_create(
        name=ROLLUP_CURSOR, defaults={"position": now - timedelta(hours=1) + ARRIVAL_OVERLAP}
    )
    began = time.perf_counter()
    rollup_run(now=now)
    return time.perf_counter() - began


def time_baseline(now: datetime) -> float:
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(
            BASELINE_SQL.format(events=Event._meta.db_table), [now - timedelta(hours=1), now]
        )
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--prior-hours", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    call_command("migrate", verbosity=0)
    load(devices=args.devices, prior_hours=args.prior_hours, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_rollup (device_id bigint, channel text,"
            " bucket_start timestamptz, count bigint, min float8, max float8, sum float8,"
            " PRIMARY KEY (device_id, channel, bucket_start))"
        )
        cursor.execute("TRUNCATE bench_rollup")

    rollup_times, baseline_times = [], []
    for _ in range(args.repeat):  # interleaved, so machine noise hits both alike
        rollup_times.append(time_rollup(now))
        baseline_times.append(time_baseline(now))
    rollup, baseline = statistics.median(rollup_times), statistics.median(baseline_times)
    events = args.devices * 60
    print(f"{args.devices} devices, {events} events in the last hour, {args.prior_hours} prior")
    print(f"rollup_run          median {rollup:.3f} s  (min {min(rollup_times):.3f})")
    print(f"SQL GROUP BY upsert median {baseline:.3f} s  (min {min(baseline_times):.3f})")
    print(f"ratio {rollup / baseline:.2f}x")


if __name__ == "__main__":
    main()
