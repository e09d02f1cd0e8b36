"""The two rollup statements: hours from raw events, days from hour rows.

Each computes every bucket of a batch of channels over one bucket-aligned range
[lo, hi) and upserts the rows itself (`INSERT … SELECT … ON CONFLICT DO UPDATE`),
so no row passes through Python. Both run on SQLite and PostgreSQL; the few
spellings that differ are in `_Dialect`. Durations are milliseconds.

Both carry into `lo` the state that held there: the channel's last raw event
before `lo`, else (raw events purged) the end state of its last hour row. The
raw event is looked up only from that hour row's start on: on PostgreSQL an
unbounded look-up would probe every daily partition of the channel's past. The
earliest of those starts over the batch (`raw_from`, see `raw_from_sql`) also
bounds the look-up with a constant, so that the planner leaves out the other
partitions (planning a statement over every daily child cost more than running it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from events.models import Event, Rollup

# Every column the upsert writes; the unique key (device, channel, period,
# bucket_start) comes first and is never updated.
COLUMNS = [
    "device_id", "channel", "period", "bucket_start", "bucket_end", "local_date", "time_zone",
    "covered_until", "count", "changes", "state_ms", "known_ms", "min", "max", "sum", "twa",
    "last_ts", "last_state", "last_value",
]  # fmt: skip
KEY = COLUMNS[:4]


def ms_sql(column: str) -> str:
    """Epoch milliseconds of a datetime column, in the database's own SQL."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000) AS BIGINT)"


@dataclass(frozen=True)
class _Dialect:
    timestamp: str  # a datetime parameter, typed
    date: str
    no_timestamp: str
    json_object_agg: str
    json_each: str  # rows (key, value) of a JSON object; value as text or number

    def ms(self, column: str) -> str:
        return ms_sql(column)

    @property
    def least(self) -> str:
        return "MIN" if connection.vendor == "sqlite" else "LEAST"

    @property
    def greatest(self) -> str:
        return "MAX" if connection.vendor == "sqlite" else "GREATEST"


def _dialect() -> _Dialect:
    if connection.vendor == "sqlite":
        return _Dialect("%({})s", "%({})s", "NULL", "json_group_object", "json_each")
    return _Dialect(
        "CAST(%({})s AS TIMESTAMPTZ)",
        "CAST(%({})s AS DATE)",
        "CAST(NULL AS TIMESTAMPTZ)",
        "jsonb_object_agg",
        "jsonb_each_text",
    )


def _pair_rows(pairs: int) -> str:
    return ", ".join(f"(%(d{i})s, %(c{i})s)" for i in range(pairs))


def raw_from_sql(pairs: int) -> str:
    """The earliest start of the batch's carried-in raw look-ups: over the pairs, the
    start of the last hour row before `lo`, or `floor` where a pair has none."""
    rollup = Rollup._meta.db_table
    return f"""
    SELECT MIN(COALESCE((
        SELECT MAX(q.bucket_start) FROM {rollup} q
        WHERE q.device_id = d.device_id AND q.channel = d.channel AND q.period = 'hour'
          AND q.bucket_start < %(lo)s
    ), %(floor)s))
    FROM (VALUES {_pair_rows(pairs)}) AS d(device_id, channel)
    """


def _head(pairs: int, buckets: int, sql: _Dialect) -> str:
    """CTEs shared by both statements: the batch, its buckets and the carried-in state."""
    event, rollup = Event._meta.db_table, Rollup._meta.db_table
    pair_rows = _pair_rows(pairs)
    bucket_rows = ", ".join(
        f"(CAST(%(bs{j})s AS BIGINT), CAST(%(be{j})s AS BIGINT), CAST(%(ce{j})s AS BIGINT),"
        f" {sql.timestamp.format(f'start{j}')}, {sql.timestamp.format(f'end{j}')},"
        f" {sql.timestamp.format(f'cov{j}')}, {sql.date.format(f'date{j}')})"
        for j in range(buckets)
    )
    return f"""
    pairs(device_id, channel) AS (VALUES {pair_rows}),
    buckets(bs, be, ce, start_at, end_at, covered_until, local_date) AS (VALUES {bucket_rows}),
    prev AS (
        SELECT r.device_id, r.channel, r.bucket_start, r.last_ts, r.last_state, r.last_value
        FROM pairs d JOIN {rollup} r ON r.device_id = d.device_id AND r.channel = d.channel
        WHERE r.period = 'hour' AND r.bucket_start = (
            SELECT MAX(q.bucket_start) FROM {rollup} q
            WHERE q.device_id = d.device_id AND q.channel = d.channel AND q.period = 'hour'
              AND q.bucket_start < %(lo)s
        )
    ),
    starts AS (
        SELECT d.device_id, d.channel, (
            SELECT MAX(p.ts) FROM {event} p
            WHERE p.device_id = d.device_id AND p.channel = d.channel
              AND p.ts < %(lo)s AND p.ts >= COALESCE(v.bucket_start, %(floor)s)
              AND p.ts >= %(raw_from)s
        ) AS prev_ts
        FROM pairs d LEFT JOIN prev v ON v.device_id = d.device_id AND v.channel = d.channel
    ),
    carried(device_id, channel, ts, state, value) AS (
        SELECT e.device_id, e.channel, e.ts, e.state, e.value
        FROM starts s JOIN {event} e
          ON e.device_id = s.device_id AND e.channel = s.channel AND e.ts = s.prev_ts
        WHERE e.ts >= %(raw_from)s AND e.ts < %(lo)s
        UNION ALL
        SELECT v.device_id, v.channel, v.last_ts, v.last_state, v.last_value
        FROM prev v JOIN starts s ON s.device_id = v.device_id AND s.channel = v.channel
        WHERE s.prev_ts IS NULL
    )"""


def _upsert(ctes: str, sql: _Dialect) -> str:
    """Add up `contributions` (durations) and `figures` (one row per bucket with events)
    per bucket, and upsert the rows.

    One aggregate and no join between the two: the planner cannot estimate how
    many rows a batch yields, and a nested loop between them took seconds.
    The statement starts with INSERT (its CTEs inside), so that SQLite reports how
    many rows it wrote.
    """
    rollup, quote = Rollup._meta.db_table, connection.ops.quote_name
    columns = ", ".join(quote(column) for column in COLUMNS)
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in COLUMNS if c not in KEY)
    key = ", ".join(quote(column) for column in KEY)
    return f"""
    INSERT INTO {rollup} ({columns})
    WITH {ctes},
    parts AS (
        SELECT device_id, channel, bs, n, changes, low, high, total, last_ts, last_state,
               last_value, covered_until, NULL AS state, NULL AS ms, NULL AS weighted
        FROM figures
        UNION ALL
        SELECT device_id, channel, bs, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               state, SUM(ms), SUM(weighted)
        FROM contributions GROUP BY device_id, channel, bs, state
    ),
    summed AS (
        SELECT device_id, channel, bs, SUM(n) AS n, SUM(changes) AS changes, MIN(low) AS low,
               MAX(high) AS high, SUM(total) AS total, MAX(last_ts) AS last_ts,
               MAX(last_state) AS last_state, MAX(last_value) AS last_value,
               MAX(covered_until) AS covered_until, SUM(ms) AS known_ms,
               SUM(weighted) AS weighted,
               {sql.json_object_agg}(state, ms) FILTER (WHERE state IS NOT NULL) AS state_ms
        FROM parts GROUP BY device_id, channel, bs
    )
    SELECT s.device_id, s.channel, %(period)s, b.start_at, b.end_at, b.local_date, %(zone)s,
           COALESCE(s.covered_until, b.covered_until), s.n,
           CASE WHEN s.last_state IS NULL THEN 0 ELSE s.changes END,
           COALESCE(s.state_ms, '{{}}'), COALESCE(s.known_ms, 0), s.low, s.high, s.total,
           CASE WHEN s.last_state IS NULL AND s.known_ms > 0
                THEN s.weighted / CAST(s.known_ms AS DOUBLE PRECISION) END,
           s.last_ts, s.last_state, s.last_value
    FROM summed s JOIN buckets b ON b.bs = s.bs
    WHERE s.n > 0  -- and SQLite reads ON after a join without WHERE as the join's condition
    ORDER BY s.device_id, s.channel, s.bs  -- one lock order, so racing workers cannot deadlock
    ON CONFLICT ({key}) DO UPDATE SET {updates}
    """


def hours_sql(pairs: int, buckets: int) -> str:
    """Hour rows from raw events: every state (or value) holds until the next event."""
    sql, event = _dialect(), Event._meta.db_table
    end_of = f"{sql.least}(COALESCE(s.next_t, %(now)s), %(now)s)"
    ctes = f"""{_head(pairs, buckets, sql)},
    seq AS (
        SELECT x.device_id, x.channel, x.ts, {sql.ms("x.ts")} AS t, x.state, x.value,
               LEAD({sql.ms("x.ts")}) OVER w AS next_t, LAG(x.state) OVER w AS prev_state
        FROM (
            SELECT e.device_id, e.channel, e.ts, e.state, e.value
            FROM pairs d JOIN {event} e ON e.device_id = d.device_id AND e.channel = d.channel
            WHERE e.ts >= %(lo)s AND e.ts < %(hi)s
            UNION ALL
            SELECT * FROM carried
        ) x
        WINDOW w AS (PARTITION BY x.device_id, x.channel ORDER BY x.ts)
    ),
    spans AS (
        SELECT s.device_id, s.channel, b.bs, s.state, s.value,
               {sql.least}({end_of}, b.be) - {sql.greatest}(s.t, b.bs) AS ms
        FROM seq s JOIN buckets b ON b.be > s.t AND b.bs < {end_of}
    ),
    contributions AS (
        SELECT device_id, channel, bs, state, ms, value * ms AS weighted FROM spans WHERE ms > 0
    ),
    inside AS (
        SELECT s.*, b.bs, CASE WHEN s.next_t IS NULL OR s.next_t >= b.be THEN 1 END AS is_last
        FROM seq s JOIN buckets b ON s.t >= b.bs AND s.t < b.be
    ),
    figures AS (
        SELECT device_id, channel, bs, COUNT(*) AS n,
               SUM(CASE WHEN prev_state IS NULL OR prev_state <> state THEN 1 ELSE 0 END)
                   AS changes,
               MIN(value) AS low, MAX(value) AS high, SUM(value) AS total,
               -- one event per bucket is its last
               MAX(CASE WHEN is_last = 1 THEN ts END) AS last_ts,
               MAX(CASE WHEN is_last = 1 THEN state END) AS last_state,
               MAX(CASE WHEN is_last = 1 THEN value END) AS last_value,
               {sql.no_timestamp} AS covered_until
        FROM inside GROUP BY device_id, channel, bs
    )"""
    return _upsert(ctes, sql)


def days_sql(pairs: int, buckets: int) -> str:
    """Day rows from the hour rows, which tile local days exactly.

    A day sums its stored hours plus, after each hour row (and from `lo` for the
    state carried in), its end state held until the next hour row or now: the
    hours without events, which are not stored, and the open end of an hour row
    computed before its hour was over.
    """
    sql, rollup, q = _dialect(), Rollup._meta.db_table, connection.ops.quote_name
    hs = sql.ms("r.bucket_start")
    gap_end = f"{sql.least}(COALESCE(s.next_hs, %(now)s), %(now)s)"
    ctes = f"""{_head(pairs, buckets, sql)},
    hours AS (
        SELECT r.device_id, r.channel, b.bs, b.ce, {hs} AS hs, {sql.ms("r.covered_until")} AS cov,
               r.covered_until, r.{q("count")} AS n, r.changes, r.state_ms, r.known_ms,
               r.{q("min")} AS low, r.{q("max")} AS high, r.{q("sum")} AS total, r.twa, r.last_ts,
               r.last_state, r.last_value, CASE WHEN LEAD({hs}, 1, b.be) OVER (
                   PARTITION BY r.device_id, r.channel ORDER BY r.bucket_start
               ) >= b.be THEN 1 END AS is_last
        FROM pairs d JOIN {rollup} r ON r.device_id = d.device_id AND r.channel = d.channel
        JOIN buckets b ON {hs} >= b.bs AND {hs} < b.be
        WHERE r.period = 'hour' AND r.bucket_start >= %(lo)s AND r.bucket_start < %(hi)s
    ),
    seq AS (
        SELECT x.*, LEAD(x.hs) OVER (PARTITION BY x.device_id, x.channel ORDER BY x.hs) AS next_hs
        FROM (
            SELECT device_id, channel, hs, cov, last_state, last_value FROM hours
            UNION ALL
            SELECT device_id, channel, CAST(%(lo_ms)s AS BIGINT), CAST(%(lo_ms)s AS BIGINT),
                   state, value
            FROM carried
        ) x
    ),
    gaps AS (
        SELECT s.device_id, s.channel, b.bs, s.last_state AS state, s.last_value AS value,
               {sql.least}({gap_end}, b.be) - {sql.greatest}(s.cov, b.bs) AS ms
        FROM seq s JOIN buckets b ON b.be > s.cov AND b.bs < {gap_end}
    ),
    contributions AS (
        SELECT device_id, channel, bs, CAST(NULL AS VARCHAR(32)) AS state, known_ms AS ms,
               twa * known_ms AS weighted
        FROM hours WHERE last_state IS NULL
        UNION ALL
        SELECT h.device_id, h.channel, h.bs, j.key, CAST(j.value AS BIGINT),
               CAST(NULL AS DOUBLE PRECISION)
        FROM hours h, {sql.json_each}(h.state_ms) j
        UNION ALL
        SELECT device_id, channel, bs, state, ms, value * ms FROM gaps WHERE ms > 0
    ),
    figures AS (
        SELECT device_id, channel, bs, SUM(n) AS n, SUM(changes) AS changes, MIN(low) AS low,
               MAX(high) AS high, SUM(total) AS total,
               -- one hour row per day is its last
               MAX(CASE WHEN is_last = 1 THEN last_ts END) AS last_ts,
               MAX(CASE WHEN is_last = 1 THEN last_state END) AS last_state,
               MAX(CASE WHEN is_last = 1 THEN last_value END) AS last_value,
               -- an hour row computed with a later `now` than this run's (a racing worker)
               MAX(CASE WHEN is_last = 1 AND cov > ce THEN covered_until END) AS covered_until
        FROM hours GROUP BY device_id, channel, bs
    )"""
    return _upsert(ctes, sql)
