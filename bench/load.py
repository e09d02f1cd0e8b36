"""Loads benchmark data straight into the tables with SQL (INSERT … SELECT
generate_series), in time order, as a live table would have received it.

Layout (T0 = the start of the current UTC hour; every ts < T0):
- the busy device: `temperature` every 30 s and `pump` ON/OFF every 15 min over the
  last 36 hours; its daily rollups for the 400 days before, made up in SQL, then its
  real rollups recomputed by the app's own `rollup_rebuild` over its raw events;
- every other device: `temperature` readings spread evenly over 120 days (half of
  them past the 60-day retention), each device offset within the step, so rows of all
  devices interleave as they would on arrival; in the large load also one reading a
  minute for the last hour (the hourly rollup's workload);
- rollup rows for the other devices made in SQL (hour and day: count, min, max, sum,
  mean as twa, the last value), standing in for what the rollup job would have stored.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from events.models import Channel, Event, Rollup

SPAN = timedelta(days=120)
BUSY_SPAN = timedelta(hours=36)
BUSY_TEMPERATURE_EVERY = 30  # seconds
BUSY_PUMP_EVERY = 900  # seconds
BUSY_ROWS = (
    int(BUSY_SPAN.total_seconds()) // BUSY_TEMPERATURE_EVERY
    + int(BUSY_SPAN.total_seconds()) // BUSY_PUMP_EVERY
)
SYNTHETIC_DAYS = 400
CHUNKS = 24  # statements per load, each a slice of time

EVENT, CHANNEL, ROLLUP = Event._meta.db_table, Channel._meta.db_table, Rollup._meta.db_table
COLUMNS = "device_id, channel, ts, received_at, state, value"


@dataclass(frozen=True)
class Plan:
    """How many readings each other device has over SPAN, and which go in the small load."""

    t0: datetime
    busy_id: int
    others: int  # devices besides the busy one
    samples: int  # readings per other device over SPAN (both loads together)
    stride: int  # the small load takes every stride-th reading of each device

    @classmethod
    def make(cls, *, t0: datetime, busy_id: int, others: int, large: int, small: int) -> Plan:
        last_hour = 60 * others
        samples = max(1, (large - BUSY_ROWS - last_hour) // others)
        stride = max(1, round(samples / max(1, (small - BUSY_ROWS) / others)))
        return cls(t0=t0, busy_id=busy_id, others=others, samples=samples, stride=stride)

    @property
    def step_seconds(self) -> float:
        return SPAN.total_seconds() / self.samples


def _others_sql(where: str) -> str:
    """Readings of the other devices with sample index i in [%(lo)s, %(hi)s) meeting `where`."""
    return f"""
        SELECT d.id AS device_id, 'temperature' AS channel,
               %(start)s::timestamptz
                 + make_interval(secs => (i + (d.j + 0.5) / %(others)s) * %(step)s) AS ts,
               NULL::varchar AS state,
               round((20 + 6 * sin(i / 15.0 + d.j))::numeric, 2)::float8 AS value
        FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS j FROM devices_device
              WHERE tenant_id = %(tenant)s AND id <> %(busy)s) d
        CROSS JOIN generate_series(%(lo)s, %(hi)s - 1) AS i
        WHERE {where}
    """  # noqa: S608 (fixed SQL; values are parameters)


BUSY_SQL = """
    SELECT %(busy)s, 'temperature', %(t0)s::timestamptz - %(busy_span)s + k * interval '30 s',
           NULL, round((26 + 2 * sin(k / 120.0))::numeric, 2)::float8
    FROM generate_series(0, %(busy_temperature)s - 1) AS k
    UNION ALL
    SELECT %(busy)s, 'pump', %(t0)s::timestamptz - %(busy_span)s + k * interval '15 min',
           CASE WHEN k %% 2 = 0 THEN 'ON' ELSE 'OFF' END, NULL
    FROM generate_series(0, %(busy_pump)s - 1) AS k
"""


def _execute(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _params(plan: Plan, tenant_id: int) -> dict:
    return {
        "start": plan.t0 - SPAN,
        "t0": plan.t0,
        "others": plan.others,
        "step": plan.step_seconds,
        "tenant": tenant_id,
        "busy": plan.busy_id,
        "stride": plan.stride,
        "busy_span": BUSY_SPAN,
        "busy_temperature": int(BUSY_SPAN.total_seconds()) // BUSY_TEMPERATURE_EVERY,
        "busy_pump": int(BUSY_SPAN.total_seconds()) // BUSY_PUMP_EVERY,
    }


def _insert_others(
    plan: Plan, tenant_id: int, where: str, *, with_busy: bool, log, before: datetime | None = None
) -> int:
    """Insert in CHUNKS time slices, each ordered by ts; the busy rows go in their slice."""
    params = {**_params(plan, tenant_id), "before": before or plan.t0}
    busy_from = plan.t0 - BUSY_SPAN
    per_chunk = math.ceil(plan.samples / CHUNKS)
    total = 0
    for lo in range(0, plan.samples, per_chunk):
        hi = min(plan.samples, lo + per_chunk)
        chunk_end = plan.t0 - SPAN + timedelta(seconds=hi * plan.step_seconds)
        parts = [_others_sql(where)]
        if with_busy and chunk_end > busy_from:
            parts.append(BUSY_SQL)
            with_busy = False
        rows = " UNION ALL ".join(parts)
        sql = (
            f"INSERT INTO {EVENT} ({COLUMNS}) SELECT device_id, channel, ts, ts, state, value"  # noqa: S608
            f" FROM ({rows}) r WHERE ts < %(before)s ORDER BY ts ON CONFLICT DO NOTHING"
        )
        total += _execute(sql, {**params, "lo": lo, "hi": hi})
        log(f"   {total:,} events")
    return total


def _last_hour(plan: Plan, tenant_id: int) -> int:
    """One reading a minute per other device over the hour before T0."""
    sql = f"""
        INSERT INTO {EVENT} ({COLUMNS})
        SELECT d.id, 'temperature', t, t, NULL, round((20 + 6 * sin(m / 10.0 + d.j))::numeric, 2)
        FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS j FROM devices_device
              WHERE tenant_id = %(tenant)s AND id <> %(busy)s) d
        CROSS JOIN generate_series(0, 59) AS m
        CROSS JOIN LATERAL (SELECT %(t0)s::timestamptz - interval '1 hour'
                                   + m * interval '1 min' + d.j * interval '1 ms' AS t) x
        ORDER BY t ON CONFLICT DO NOTHING
    """  # noqa: S608
    return _execute(sql, _params(plan, tenant_id))


def channels_create(plan: Plan, tenant_id: int) -> None:
    """Each device's channels (kind fixed), as the first ingest would have made them."""
    _execute(
        f"INSERT INTO {CHANNEL} (device_id, name, kind)"  # noqa: S608
        " SELECT id, 'temperature', 'numeric' FROM devices_device WHERE tenant_id = %(tenant)s"
        " UNION ALL SELECT %(busy)s, 'pump', 'state' ON CONFLICT DO NOTHING",
        {"tenant": tenant_id, "busy": plan.busy_id},
    )


def channels_refresh() -> None:
    """Each channel's current state: its newest event (one index probe per channel)."""
    _execute(f"""
        UPDATE {CHANNEL} c SET last_ts = e.ts, last_state = e.state, last_value = e.value
        FROM {CHANNEL} c2 CROSS JOIN LATERAL (
            SELECT ts, state, value FROM {EVENT}
            WHERE device_id = c2.device_id AND channel = c2.name ORDER BY ts DESC LIMIT 1
        ) e WHERE c.id = c2.id
    """)  # noqa: S608


def _rollups_sql(period: str) -> str:
    start = f"date_trunc('{period}', ts)"
    length = "interval '1 hour'" if period == "hour" else "interval '1 day'"
    local_date = "NULL::date" if period == "hour" else f"({start})::date"
    known = 3_600_000 if period == "hour" else 86_400_000
    return f"""
        INSERT INTO {ROLLUP} (device_id, channel, period, bucket_start, bucket_end, local_date,
            time_zone, covered_until, count, changes, state_ms, known_ms, min, max, sum, twa,
            last_ts, last_state, last_value)
        SELECT device_id, channel, '{period}', {start}, {start} + {length}, {local_date}, 'UTC',
               {start} + {length}, count(*), 0, '{{}}'::jsonb, {known}, min(value), max(value),
               sum(value), avg(value), max(ts), NULL,
               (max(ARRAY[extract(epoch FROM ts)::float8, value]))[2]
        FROM {EVENT} WHERE device_id <> %(busy)s
        GROUP BY device_id, channel, {start}
        ON CONFLICT (device_id, channel, period, bucket_start) DO UPDATE SET
            count = excluded.count, min = excluded.min, max = excluded.max, sum = excluded.sum,
            twa = excluded.twa, last_ts = excluded.last_ts, last_value = excluded.last_value
    """  # noqa: S608


def rollups_for_others(plan: Plan) -> int:
    return sum(_execute(_rollups_sql(period), {"busy": plan.busy_id}) for period in ("hour", "day"))


def busy_rollups(plan: Plan) -> int:
    """The busy device's daily rollups for the SYNTHETIC_DAYS before its raw events."""
    sql = f"""
        INSERT INTO {ROLLUP} (device_id, channel, period, bucket_start, bucket_end, local_date,
            time_zone, covered_until, count, changes, state_ms, known_ms, min, max, sum, twa,
            last_ts, last_state, last_value)
        SELECT %(busy)s, c.name, 'day', d, d + interval '1 day', d::date, 'UTC',
               d + interval '1 day', c.n, c.changes, c.state_ms::jsonb, 86400000,
               c.lo, c.hi, c.total, c.mean, d + interval '1 day' - c.last_gap,
               c.last_state, c.last_value
        FROM generate_series(
                date_trunc('day', %(first)s::timestamptz) - %(days)s * interval '1 day',
                date_trunc('day', %(first)s::timestamptz) - interval '1 day',
                interval '1 day') AS d
        CROSS JOIN (VALUES
            ('temperature', 2880, 0, '{{}}', 24.0, 28.0, 2880 * 26.0, 26.0,
             interval '30 s', NULL, 26.0),
            ('pump', 96, 96, '{{"ON": 43200000, "OFF": 43200000}}', NULL, NULL, NULL, NULL,
             interval '15 min', 'OFF', NULL)
        ) AS c(name, n, changes, state_ms, lo, hi, total, mean, last_gap, last_state, last_value)
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    params = {"busy": plan.busy_id, "first": plan.t0 - BUSY_SPAN, "days": SYNTHETIC_DAYS}
    return _execute(sql, params)


def load_small(plan: Plan, tenant_id: int, log) -> int:
    where = "i %% %(stride)s = 0"
    return _insert_others(plan, tenant_id, where, with_busy=True, log=log)


def load_large(plan: Plan, tenant_id: int, log) -> int:
    """The rest of the large load. The busy device's rows are taken out and put back
    among the new rows, so they lie spread over the table as they would in real life."""
    removed = _execute(f"DELETE FROM {EVENT} WHERE device_id = %s", [plan.busy_id])  # noqa: S608
    where = "i %% %(stride)s <> 0"
    added = _insert_others(plan, tenant_id, where, with_busy=True, log=log)
    return added - removed + _last_hour(plan, tenant_id)


def load_expired_again(plan: Plan, tenant_id: int, cutoff: datetime, log) -> int:
    """Put back exactly the rows the purge removed (both loads' readings before `cutoff`)."""
    return _insert_others(plan, tenant_id, "true", with_busy=False, log=log, before=cutoff)


def vacuum_analyze() -> float:
    """VACUUM ANALYZE the tables read (autovacuum would have, on a live table)."""
    began = time.monotonic()
    with connection.cursor() as cursor:
        for table in (EVENT, ROLLUP, CHANNEL):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.monotonic() - began
