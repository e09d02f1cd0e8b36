"""Hourly and daily rollups: hours recomputed in SQL from raw events, days from hours.

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
from events.models import Channel, Event, JobCursor, Rollup
from events.serializers import EPOCH, ONE_MS, to_epoch_ms
from events.services.rollup_sql import days_sql, hours_sql, ms_sql, raw_from_sql

ROLLUP_CURSOR = "rollup"
# Events are stamped `received_at` before their transaction commits: rescanning
# this much before the last run's start catches rows that committed late.
ARRIVAL_OVERLAP = timedelta(minutes=10)
# Long rebuilds are cut into chunks of this many buckets (bounded joins and memory;
# a day chunk reads up to 24 hour rows a day of each channel).
CHUNK_BUCKETS = {Period.HOUR: 24 * 7, Period.DAY: 31}
MAX_PAIRS_PER_QUERY = 1000
STATEMENTS = {Period.HOUR: hours_sql, Period.DAY: days_sql}
# Before every event: the open start of the carried-in state's raw look-up.
FLOOR = datetime(1, 1, 1, tzinfo=UTC)


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


def _from_ms(ms: int) -> datetime:
    return EPOCH + ms * ONE_MS


def _compute(
    pairs: list[tuple[int, str]], buckets: list[Bucket], *, zone: ZoneInfo, period: Period,
    now: datetime,
) -> int:  # fmt: skip
    """Recompute and upsert `buckets` of `pairs` (device pk, channel): one statement."""
    ops = connection.ops
    lo, hi = buckets[0].start, buckets[-1].end
    params: dict = {
        "lo": ops.adapt_datetimefield_value(lo),
        "hi": ops.adapt_datetimefield_value(hi),
        "lo_ms": to_epoch_ms(lo),
        "now": to_epoch_ms(now),
        "floor": ops.adapt_datetimefield_value(FLOOR),
        "period": period.value,
        "zone": zone.key,
    }
    for i, (device_id, channel) in enumerate(pairs):
        params[f"d{i}"], params[f"c{i}"] = device_id, channel
    for j, bucket in enumerate(buckets):
        covered = min(bucket.end, now)
        params |= {
            f"bs{j}": to_epoch_ms(bucket.start),
            f"be{j}": to_epoch_ms(bucket.end),
            f"ce{j}": to_epoch_ms(covered),
            f"start{j}": ops.adapt_datetimefield_value(bucket.start),
            f"end{j}": ops.adapt_datetimefield_value(bucket.end),
            f"cov{j}": ops.adapt_datetimefield_value(covered),
            f"date{j}": ops.adapt_datefield_value(local_date(bucket.start, zone=zone))
            if period is Period.DAY
            else None,
        }
    with connection.cursor() as cursor:
        params["raw_from"] = params["floor"]
        if connection.vendor == "postgresql":  # partitions to leave out of the plan
            cursor.execute(raw_from_sql(len(pairs)), params)
            params["raw_from"] = ops.adapt_datetimefield_value(cursor.fetchone()[0])
        cursor.execute(STATEMENTS[period](len(pairs), len(buckets)), params)
        return cursor.rowcount


def _recompute(
    ranges: Iterable[ChannelRange], *, zone: ZoneInfo, period: Period, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:  # fmt: skip
    """Recompute and upsert every bucket of `ranges`, in chunks; returns rows written."""
    by_span: dict[tuple[datetime, datetime], list[tuple[int, str]]] = defaultdict(list)
    for item in ranges:
        by_span[(item.lo, item.hi)].append((item.device_id, item.channel))
    written = 0
    for (lo, hi), pairs in sorted(by_span.items()):
        all_buckets = buckets_between(lo, hi, zone=zone, period=period)
        step = CHUNK_BUCKETS[period]
        for first in range(0, len(all_buckets), step):
            for start in range(0, len(pairs), MAX_PAIRS_PER_QUERY):
                rows = _compute(
                    pairs[start : start + MAX_PAIRS_PER_QUERY],
                    all_buckets[first : first + step],
                    zone=zone,
                    period=period,
                    now=now,
                )
                written += rows
                if progress:
                    progress(rows)
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
    """(device pk, channel, min ts, max ts, next ts after max) of what arrived since `since`.

    The next event is looked up only where the channel's newest ts (`Channel.last_ts`)
    is past the arrivals, that is after a late arrival; then with constant bounds, so
    that the planner leaves out the other daily partitions."""
    event, channel, ms = Event._meta.db_table, Channel._meta.db_table, ms_sql
    where, params = ("WHERE received_at >= %s", [connection.ops.adapt_datetimefield_value(since)])
    if since is None:
        where, params = "", []
    sql = f"""
        SELECT g.device_id, g.channel, {ms("g.min_ts")}, {ms("g.max_ts")},
               c.last_ts IS NULL OR c.last_ts > g.max_ts, g.max_ts, c.last_ts
        FROM (
            SELECT device_id, channel, MIN(ts) AS min_ts, MAX(ts) AS max_ts
            FROM {event} {where} GROUP BY device_id, channel
        ) g
        LEFT JOIN {channel} c ON c.device_id = g.device_id AND c.name = g.channel
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    later = [row for row in rows if row[4]]
    nexts = _next_events(later) if later else {}
    return [(*row[:4], nexts.get((row[0], row[1]))) for row in rows]


def _next_events(rows: list[tuple]) -> dict[tuple[int, str], int]:
    """(device pk, channel) → ms of its first event after max ts, for `_touched_channels`
    rows (…, max ts, channel's last ts) that have one. The ts values go back to the
    database as it gave them."""
    event, ms = Event._meta.db_table, ms_sql
    typed = "CAST(v.column3 AS TIMESTAMPTZ)" if connection.vendor == "postgresql" else "v.column3"
    nexts, wanted = {}, [(d, c, max_ts, last_ts) for d, c, *_, max_ts, last_ts in rows]
    for start in range(0, len(wanted), MAX_PAIRS_PER_QUERY):
        chunk = wanted[start : start + MAX_PAIRS_PER_QUERY]
        bounds, params = " AND n.ts > %s", [min(max_ts for *_, max_ts, _ in chunk)]
        if all(last_ts is not None for *_, last_ts in chunk):
            bounds += " AND n.ts <= %s"
            params.append(max(last_ts for *_, last_ts in chunk))
        params += [value for d, c, max_ts, _ in chunk for value in (d, c, max_ts)]
        sql = f"""
            SELECT v.column1, v.column2, (
                SELECT {ms("MIN(n.ts)")} FROM {event} n
                WHERE n.device_id = v.column1 AND n.channel = v.column2 AND n.ts > {typed}
                  {bounds}
            )
            FROM (VALUES {", ".join(["(%s, %s, %s)"] * len(chunk))}) AS v
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            nexts.update(((d, c), t) for d, c, t in cursor.fetchall() if t is not None)
    return nexts


def _ranges_by_zone(
    touched: list[tuple[int, str, datetime, datetime]], tenants: dict[int, Tenant],
    period: Period, *, whole_days: bool,
) -> dict[str, list[ChannelRange]]:  # fmt: skip
    """Group (device pk, channel, first ts, last ts) into aligned ranges per tenant zone."""
    by_zone: dict[str, list[ChannelRange]] = defaultdict(list)
    for device_id, channel, first, last in touched:
        tenant = tenants[device_id]
        zone = ZoneInfo(tenant.time_zone)
        if whole_days:
            first = bucket_start(first, zone=zone, period=Period.DAY)
        span = _aligned_range(
            first, last, zone=zone, period=period, purged_before=tenant.raw_purged_before
        )
        if span:
            by_zone[tenant.time_zone].append(ChannelRange(device_id, channel, *span))
    return by_zone


def _recompute_touched(
    touched: list[tuple[int, str, datetime, datetime]], *, now: datetime, whole_days: bool,
    progress: Callable[[int], None] | None = None,
) -> RollupReport:  # fmt: skip
    """Hours first, then the days, which are summed from them."""
    report = RollupReport(channels=len(touched))
    devices = Device.objects.filter(pk__in={device_id for device_id, *_ in touched})
    tenants = {device.pk: device.tenant for device in devices.select_related("tenant")}
    for period in Period:
        written = 0
        ranges = _ranges_by_zone(touched, tenants, period, whole_days=whole_days)
        for zone_name, zone_ranges in ranges.items():
            written += _recompute(
                zone_ranges, zone=ZoneInfo(zone_name), period=period, now=now, progress=progress
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
    # The hours before each range are already rolled up (every earlier arrival was,
    # by an earlier run), so the days can be summed from them.
    report = _recompute_touched(touched, now=now, whole_days=False)
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
    # From the start of each first day: the hours before `since` may never have been
    # rolled up, and the days are summed from them.
    return _recompute_touched(touched, now=now, whole_days=True, progress=progress)


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
