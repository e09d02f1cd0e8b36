"""Hourly and daily rollups, recomputed in SQL from raw events.

A bucket's figures follow one rule: a state (or value) holds from its event
until the channel's next event, at the open end until now; time before a
channel's first event is not counted. Rows are stored only for buckets that
contain events; the others are derived on read from the previous row's end
state. Recomputing is idempotent (recompute-and-upsert), so running twice,
or in two workers at once, gives the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Min

from accounts.models import Tenant, validate_time_zone
from devices.models import Device
from events.buckets import Bucket, Period, bucket_start, buckets_between, local_date, next_boundary
from events.models import Event, JobCursor, Rollup
from events.serializers import EPOCH, ONE_MS, to_epoch_ms

ROLLUP_CURSOR = "rollup"
# Events are stamped `received_at` before their transaction commits: rescanning
# this much before the last run's start catches rows that committed late.
ARRIVAL_OVERLAP = timedelta(minutes=10)
# Long rebuilds are cut into chunks of this many buckets (bounded joins and memory).
CHUNK_BUCKETS = {Period.HOUR: 24 * 7, Period.DAY: 92}
MAX_PAIRS_PER_QUERY = 500
UPDATE_FIELDS = [
    "bucket_end", "local_date", "time_zone", "covered_until", "count", "changes", "state_ms",
    "known_ms", "min", "max", "sum", "twa", "last_ts", "last_state", "last_value",
]  # fmt: skip


@dataclass(frozen=True)
class ChannelRange:
    """Recompute the buckets of one device channel in [lo, hi) (bucket-aligned)."""

    device_id: int
    channel: str
    lo: datetime
    hi: datetime


@dataclass
class RollupReport:
    channels: int = 0
    rows: int = 0
    by_period: dict[str, int] = field(default_factory=dict)


def _ms_sql(column: str) -> str:
    """Epoch milliseconds of a datetime column, in the database's own SQL."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"
    return f"CAST(ROUND(EXTRACT(EPOCH FROM {column}) * 1000) AS BIGINT)"


def _least_greatest() -> tuple[str, str]:
    return ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")


def _from_ms(ms: int) -> datetime:
    return EPOCH + ms * ONE_MS


def _compute_sql(pair_count: int, bucket_count: int) -> str:
    event, rollup = Event._meta.db_table, Rollup._meta.db_table
    least, greatest = _least_greatest()
    ms = _ms_sql
    pairs = ", ".join(["(%s, %s, %s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT))"] * pair_count)
    buckets = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS BIGINT))"] * bucket_count)
    now = "CAST(%s AS BIGINT)"
    end_of = f"{least}(COALESCE(s.next_t, {now}), {now})"
    in_range = "b.bs >= s.lo_ms AND b.be <= s.hi_ms"
    return f"""
    WITH pairs(device_id, channel, lo, hi, lo_ms, hi_ms) AS (VALUES {pairs}),
    buckets(bs, be) AS (VALUES {buckets}),
    raw AS (
        SELECT e.device_id, e.channel, e.ts, e.state, e.value, d.lo_ms, d.hi_ms
        FROM pairs d JOIN {event} e ON e.device_id = d.device_id AND e.channel = d.channel
        WHERE e.ts < d.hi AND e.ts >= COALESCE((
            SELECT MAX(p.ts) FROM {event} p
            WHERE p.device_id = d.device_id AND p.channel = d.channel AND p.ts < d.lo
        ), d.lo)
    ),
    carried AS (
        SELECT r.device_id, r.channel, r.last_ts, r.last_state, r.last_value, d.lo_ms, d.hi_ms
        FROM pairs d JOIN {rollup} r ON r.device_id = d.device_id AND r.channel = d.channel
        WHERE r.period = 'hour' AND r.bucket_start = (
            SELECT MAX(q.bucket_start) FROM {rollup} q
            WHERE q.device_id = d.device_id AND q.channel = d.channel
              AND q.period = 'hour' AND q.bucket_start < d.lo
        ) AND NOT EXISTS (
            SELECT 1 FROM {event} p
            WHERE p.device_id = d.device_id AND p.channel = d.channel AND p.ts < d.lo
        )
    ),
    seq AS (
        SELECT x.device_id, x.channel, {ms("x.ts")} AS t, x.state, x.value, x.lo_ms, x.hi_ms,
               LEAD({ms("x.ts")}) OVER w AS next_t, LAG(x.state) OVER w AS prev_state
        FROM (SELECT * FROM raw UNION ALL SELECT * FROM carried) x
        WINDOW w AS (PARTITION BY x.device_id, x.channel ORDER BY x.ts)
    ),
    spans AS (
        SELECT s.device_id, s.channel, b.bs, s.state, s.value,
               {least}({end_of}, b.be) - {greatest}(s.t, b.bs) AS dur
        FROM seq s JOIN buckets b ON {in_range} AND b.be > s.t AND b.bs < {end_of}
    ),
    inside AS (
        SELECT s.*, b.bs, ROW_NUMBER() OVER (
            PARTITION BY s.device_id, s.channel, b.bs ORDER BY s.t DESC) AS from_end
        FROM seq s JOIN buckets b ON {in_range} AND s.t >= b.bs AND s.t < b.be
    )
    SELECT 'span', device_id, channel, bs, state, SUM(dur), SUM(value * dur), NULL, NULL, NULL
    FROM spans WHERE dur > 0 GROUP BY device_id, channel, bs, state
    UNION ALL
    SELECT 'events', device_id, channel, bs, NULL, COUNT(*), SUM(value), MIN(value), MAX(value),
           SUM(CASE WHEN prev_state IS NULL OR prev_state <> state THEN 1 ELSE 0 END)
    FROM inside GROUP BY device_id, channel, bs
    UNION ALL
    SELECT 'last', device_id, channel, bs, state, t, value, NULL, NULL, NULL
    FROM inside WHERE from_end = 1
    """


@dataclass
class _Bucket:
    count: int = 0
    changes: int = 0
    state_ms: dict[str, int] = field(default_factory=dict)
    known_ms: int = 0
    weighted: float = 0.0
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    last_t: int = 0
    last_state: str | None = None
    last_value: float | None = None


def _compute(
    ranges: list[ChannelRange], buckets: list[Bucket], *, zone: ZoneInfo, period: Period,
    now: datetime,
) -> list[Rollup]:  # fmt: skip
    """Rollup rows for `ranges` (all sharing `buckets`): one SQL statement."""
    adapt = connection.ops.adapt_datetimefield_value
    now_ms = to_epoch_ms(now)
    params: list = []
    for item in ranges:
        lo_ms, hi_ms = to_epoch_ms(item.lo), to_epoch_ms(item.hi)
        params += [item.device_id, item.channel, adapt(item.lo), adapt(item.hi), lo_ms, hi_ms]
    for bucket in buckets:
        params += [to_epoch_ms(bucket.start), to_epoch_ms(bucket.end)]
    params += [now_ms] * 4  # end_of appears twice in the spans CTE
    with connection.cursor() as cursor:
        cursor.execute(_compute_sql(len(ranges), len(buckets)), params)
        results = cursor.fetchall()

    acc: dict[tuple[int, str, int], _Bucket] = defaultdict(_Bucket)
    for kind, device_id, channel, bs, state, n, a, low, high, changes in results:
        row = acc[(device_id, channel, int(bs))]
        if kind == "span":
            row.known_ms += int(n)
            if state is not None:
                row.state_ms[state] = row.state_ms.get(state, 0) + int(n)
            elif a is not None:
                row.weighted += float(a)
        elif kind == "events":
            row.count, row.changes, row.sum, row.min, row.max = int(n), int(changes), a, low, high
        else:
            row.last_t, row.last_state, row.last_value = int(n), state, a

    ends = {to_epoch_ms(bucket.start): bucket.end for bucket in buckets}
    rows = []
    for (device_id, channel, bs), row in sorted(acc.items()):
        if not row.count:
            continue  # no event inside: derived on read
        start, end = _from_ms(bs), ends[bs]
        is_state = row.last_state is not None
        rows.append(
            Rollup(
                device_id=device_id,
                channel=channel,
                period=period,
                bucket_start=start,
                bucket_end=end,
                local_date=local_date(start, zone=zone) if period is Period.DAY else None,
                time_zone=zone.key,
                covered_until=min(end, now),
                count=row.count,
                changes=row.changes if is_state else 0,
                state_ms=row.state_ms if is_state else {},
                known_ms=row.known_ms,
                min=None if is_state else row.min,
                max=None if is_state else row.max,
                sum=None if is_state else row.sum,
                twa=(row.weighted / row.known_ms) if not is_state and row.known_ms else None,
                last_ts=_from_ms(row.last_t),
                last_state=row.last_state,
                last_value=row.last_value,
            )
        )
    return rows


def _upsert(rows: list[Rollup]) -> None:
    # Sorted by key, so two workers upserting the same rows cannot deadlock.
    Rollup.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["device", "channel", "period", "bucket_start"],
        update_fields=UPDATE_FIELDS,
    )


def _recompute(
    ranges: Iterable[ChannelRange], *, zone: ZoneInfo, period: Period, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:  # fmt: skip
    """Recompute and upsert every bucket of `ranges`, in chunks; returns rows written."""
    by_span: dict[tuple[datetime, datetime], list[ChannelRange]] = defaultdict(list)
    for item in ranges:
        by_span[(item.lo, item.hi)].append(item)
    written = 0
    for (lo, hi), group in sorted(by_span.items()):
        all_buckets = buckets_between(lo, hi, zone=zone, period=period)
        step = CHUNK_BUCKETS[period]
        for first in range(0, len(all_buckets), step):
            chunk = all_buckets[first : first + step]
            chunk_lo, chunk_hi = chunk[0].start, chunk[-1].end
            for start in range(0, len(group), MAX_PAIRS_PER_QUERY):
                pairs = [
                    ChannelRange(item.device_id, item.channel, chunk_lo, chunk_hi)
                    for item in group[start : start + MAX_PAIRS_PER_QUERY]
                ]
                with transaction.atomic():
                    rows = _compute(pairs, chunk, zone=zone, period=period, now=now)
                    _upsert(rows)
                written += len(rows)
                if progress:
                    progress(len(rows))
    return written


def _aligned_range(
    first: datetime, last: datetime, *, zone: ZoneInfo, period: Period,
    purged_before: datetime | None,
) -> tuple[datetime, datetime] | None:  # fmt: skip
    """Buckets covering [first, last], never starting where raw events are purged."""
    lo = bucket_start(first, zone=zone, period=period)
    if purged_before is not None and lo < purged_before:
        lo = bucket_start(purged_before, zone=zone, period=period)
        if lo < purged_before:
            lo = next_boundary(lo, zone=zone, period=period)
    hi = next_boundary(bucket_start(last, zone=zone, period=period), zone=zone, period=period)
    return (lo, hi) if lo < hi else None


def _touched_channels(since: datetime | None) -> list[tuple[int, str, int, int, int | None]]:
    """(device pk, channel, min ts, max ts, next ts after max) of what arrived since `since`."""
    event, ms = Event._meta.db_table, _ms_sql
    where, params = ("WHERE received_at >= %s", [connection.ops.adapt_datetimefield_value(since)])
    if since is None:
        where, params = "", []
    sql = f"""
        SELECT g.device_id, g.channel, {ms("g.min_ts")}, {ms("g.max_ts")}, (
            SELECT {ms("MIN(n.ts)")} FROM {event} n
            WHERE n.device_id = g.device_id AND n.channel = g.channel AND n.ts > g.max_ts
        )
        FROM (
            SELECT device_id, channel, MIN(ts) AS min_ts, MAX(ts) AS max_ts
            FROM {event} {where} GROUP BY device_id, channel
        ) g
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tenants_of(device_ids: Iterable[int]) -> dict[int, Tenant]:
    devices = Device.objects.filter(pk__in=set(device_ids)).select_related("tenant")
    return {device.pk: device.tenant for device in devices}


def _ranges_by_zone(
    touched: Iterable[tuple[int, str, datetime, datetime]], period: Period
) -> dict[str, list[ChannelRange]]:
    """Group (device pk, channel, first ts, last ts) into aligned ranges per tenant zone."""
    touched = list(touched)
    tenants = _tenants_of(device_id for device_id, *_ in touched)
    by_zone: dict[str, list[ChannelRange]] = defaultdict(list)
    for device_id, channel, first, last in touched:
        tenant = tenants[device_id]
        zone = ZoneInfo(tenant.time_zone)
        span = _aligned_range(
            first, last, zone=zone, period=period, purged_before=tenant.raw_purged_before
        )
        if span:
            by_zone[tenant.time_zone].append(ChannelRange(device_id, channel, *span))
    return by_zone


def _recompute_touched(
    touched: list[tuple[int, str, datetime, datetime]], *, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> RollupReport:  # fmt: skip
    report = RollupReport(channels=len(touched))
    for period in Period:
        written = 0
        for zone_name, ranges in _ranges_by_zone(touched, period).items():
            written += _recompute(
                ranges, zone=ZoneInfo(zone_name), period=period, now=now, progress=progress
            )
        report.by_period[period] = written
        report.rows += written
    return report


def rollup_run(*, now: datetime | None = None) -> RollupReport:
    """Recompute every bucket whose answer events that arrived since the last run change.

    That is, per touched channel, from the bucket of its earliest new event to
    the bucket of the first event after its latest new one (whose carried-in
    state and change count a late event alters). Idempotent.
    """
    now = now or datetime.now(UTC)
    cursor = JobCursor.objects.filter(name=ROLLUP_CURSOR).first()
    since = cursor.position - ARRIVAL_OVERLAP if cursor else None
    touched = [
        (device_id, channel, _from_ms(first), _from_ms(next_t if next_t is not None else last))
        for device_id, channel, first, last, next_t in _touched_channels(since)
    ]
    report = _recompute_touched(touched, now=now)
    JobCursor.objects.update_or_create(name=ROLLUP_CURSOR, defaults={"position": now})
    return report


def rollup_rebuild(
    *, tenant: Tenant, device: Device | None = None, since: datetime | None = None,
    until: datetime | None = None, progress: Callable[[int], None] | None = None,
) -> RollupReport:  # fmt: skip
    """Recompute the tenant's (or one device's) buckets in [since, until) from raw events."""
    now = datetime.now(UTC)
    events = Event.objects.for_device(device) if device else Event.objects.for_tenant(tenant)
    if since is not None:
        events = events.filter(ts__gte=since)
    if until is not None:
        events = events.filter(ts__lt=until)
    touched = [
        (row["device_id"], row["channel"], row["first"], row["last"])
        for row in events.values("device_id", "channel").annotate(first=Min("ts"), last=Max("ts"))
    ]
    return _recompute_touched(touched, now=now, progress=progress)


def tenant_time_zone_change(*, tenant: Tenant, time_zone: str) -> None:
    """Switch the tenant's zone and rebuild its rollups from the raw events still kept.

    Buckets before the purge horizon cannot be recomputed: they keep the zone
    they were computed in, which each row records (`time_zone`).
    """
    from events.tasks import rebuild_tenant  # the task module imports this one

    validate_time_zone(time_zone)
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(time_zone=time_zone)
        tenant.time_zone = time_zone
        stale = Rollup.objects.filter(device__tenant=tenant)
        if tenant.raw_purged_before is not None:
            stale = stale.filter(bucket_start__gte=tenant.raw_purged_before)
        stale.delete()
        transaction.on_commit(lambda: rebuild_tenant.delay(tenant.slug))
