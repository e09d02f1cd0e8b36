"""Retention: delete raw events past each tenant's window, once rollups cover them.

On PostgreSQL a whole daily partition goes in one DROP when its day is past every
tenant's cutoff (each partition holds every tenant's events); the rest is deleted
in batches, as on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from accounts.models import Tenant
from events.buckets import Period, bucket_start
from events.models import Event
from events.services.partitions import Partition, partitions_drop_before
from events.services.rollup import rollup_run


@dataclass
class PurgeResult:
    tenant: str
    cutoff: datetime
    # Deleted in batches (rows of dropped partitions are not counted); on a dry run,
    # every row that would go, whichever way.
    events: int


@dataclass
class PurgeReport:
    tenants: list[PurgeResult]
    # Daily partitions dropped whole (PostgreSQL), or that would be on a dry run;
    # their rows are not in the tenants' counts (counting them would cost a scan).
    partitions: list[Partition]


def _cutoff(tenant: Tenant, now: datetime) -> datetime:
    """The start of the local day the retention window begins in (never mid-bucket)."""
    zone = ZoneInfo(tenant.time_zone)
    return bucket_start(
        now - timedelta(days=tenant.raw_retention_days), zone=zone, period=Period.DAY
    )


def _raise(tenant: Tenant, field: str, cutoff: datetime) -> None:
    """Move a watermark forward only (a compare-and-set; never back)."""
    Tenant.objects.filter(pk=tenant.pk).filter(
        Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": cutoff})
    ).update(**{field: cutoff})


def _delete_before(
    tenant: Tenant, cutoff: datetime, *, batch_size: int, progress: Callable[[int], None] | None
) -> int:
    """Delete in bounded batches, oldest first, so what remains of each channel
    is always its newest events (a concurrent rollup's carried-in state stays right)."""
    expired = Event.objects.for_tenant(tenant).filter(ts__lt=cutoff)
    deleted = 0
    while ids := list(expired.order_by("ts").values_list("pk", flat=True)[:batch_size]):
        count, _ = Event.objects.filter(pk__in=ids).delete()
        deleted += count
        if progress:
            progress(count)
    return deleted


def events_purge(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Delete every tenant's raw events older than its retention (cutoffs fixed at start).

    1. Raise each tenant's raw floor: ingest refuses older events from now on.
    2. Wait out requests that read the old floor, then roll up what arrived.
    3. Drop the partitions wholly before the earliest cutoff (the longest retention),
       delete the rest in batches, and only then mark the range as purged.
    Idempotent: a second run finds nothing left to delete.
    """
    now = now or datetime.now(UTC)
    plan = [(tenant, _cutoff(tenant, now)) for tenant in Tenant.objects.order_by("slug")]
    # With no tenant there are no events (devices belong to tenants): drop nothing.
    earliest = min((cutoff for _, cutoff in plan), default=None)
    if dry_run:
        return PurgeReport(
            tenants=[
                PurgeResult(
                    tenant.slug,
                    cutoff,
                    Event.objects.for_tenant(tenant).filter(ts__lt=cutoff).count(),
                )
                for tenant, cutoff in plan
            ],
            partitions=partitions_drop_before(cutoff=earliest, dry_run=True) if plan else [],
        )
    for tenant, cutoff in plan:
        _raise(tenant, "raw_floor", cutoff)
    time.sleep(settings.PURGE_GRACE_SECONDS)
    rollup_run()
    # Every tenant's floor is at or past `earliest` and what arrived before is rolled
    # up, so nothing in these partitions is still wanted or can still arrive.
    dropped = partitions_drop_before(cutoff=earliest) if plan else []
    results = []
    for tenant, cutoff in plan:
        deleted = _delete_before(tenant, cutoff, batch_size=batch_size, progress=progress)
        _raise(tenant, "raw_purged_before", cutoff)
        results.append(PurgeResult(tenant.slug, cutoff, deleted))
    return PurgeReport(tenants=results, partitions=dropped)
