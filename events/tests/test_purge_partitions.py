"""PostgreSQL: the purge drops whole days past every tenant's cutoff, deletes the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Tenant
from events.models import Event, Rollup
from events.serializers import Reading
from events.services import events_ingest_batch
from events.services import partitions as partitions_service
from events.services.partitions import partitions_list, partitions_maintain
from events.services.purge import events_purge
from events.services.rollup import rollup_run

pytestmark = pytest.mark.postgres

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
# Cutoffs follow the `now` given to the purge; the partitions follow the real days.
NOW = TODAY + timedelta(hours=6)


def at(days: int, hour: int) -> datetime:
    return TODAY + timedelta(days=days, hours=hour)


def day(offset: int) -> str:
    return f"events_event_p{TODAY + timedelta(days=offset):%Y_%m_%d}"


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.PURGE_GRACE_SECONDS = 0


def ingest(device, *moments: datetime) -> None:
    readings = [Reading("pump", ts, state="ON" if n % 2 else "OFF") for n, ts in enumerate(moments)]
    events_ingest_batch(device=device, items=readings, received_at=datetime.now(UTC))
    with connection.cursor() as cursor:
        # The device foreign key is checked at commit, and a table with checks still
        # pending cannot be dropped; a test never commits, so run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def rollups() -> list[dict]:
    return list(Rollup.objects.order_by("device", "period", "bucket_start").values())


def kept(device) -> list[datetime]:
    return list(Event.objects.filter(device=device).order_by("ts").values_list("ts", flat=True))


@pytest.fixture
def two_tenants(tenant, other_tenant, device, other_device):
    """acme keeps 60 days in Tokyo (+09:00): its cutoff is 15:00 UTC, mid-day;
    globex keeps 30 days in UTC. Events in old days, moved into their own children."""
    Tenant.objects.filter(pk=tenant.pk).update(time_zone="Asia/Tokyo", raw_retention_days=60)
    Tenant.objects.filter(pk=other_tenant.pk).update(raw_retention_days=30)
    ingest(device, at(-70, 12), at(-62, 12), at(-61, 10), at(-61, 18), at(-59, 12))
    ingest(other_device, at(-70, 13), at(-45, 12), at(-20, 12))
    partitions_maintain()
    rollup_run()
    return device, other_device


def test_it_drops_days_past_every_tenants_cutoff_and_deletes_the_rest_in_batches(two_tenants):
    device, other_device = two_tenants
    summaries = rollups()

    report = events_purge(now=NOW)

    acme, globex = report.tenants
    assert acme.cutoff == at(-61, 15)  # 00:00 in Tokyo
    assert globex.cutoff == at(-30, 0)
    assert [p.name for p in report.partitions] == [day(-70), day(-62)]
    assert (acme.events, globex.events) == (1, 1)  # at(-61, 10) and at(-45, 12), in batches
    assert kept(device) == [at(-61, 18), at(-59, 12)]
    assert kept(other_device) == [at(-20, 12)]
    names = {p.name for p in partitions_list()}
    assert {day(-61), day(-59), day(-45), day(-20)} <= names
    assert not {day(-70), day(-62)} & names
    assert rollups() == summaries


def test_a_dry_run_names_the_partitions_and_drops_nothing(two_tenants):
    before = partitions_list()

    report = events_purge(now=NOW, dry_run=True)

    assert [p.name for p in report.partitions] == [day(-70), day(-62)]
    assert [(r.tenant, r.events) for r in report.tenants] == [("acme", 3), ("globex", 2)]
    assert partitions_list() == before
    assert Event.objects.count() == 8


def test_a_day_stays_while_any_tenants_retention_still_covers_it(tenant, other_tenant, device):
    Tenant.objects.filter(pk=other_tenant.pk).update(raw_retention_days=100)
    ingest(device, at(-70, 12))
    partitions_maintain()

    report = events_purge(now=NOW)

    assert report.partitions == []
    assert [(r.tenant, r.events) for r in report.tenants] == [("acme", 1), ("globex", 0)]
    assert day(-70) in {p.name for p in partitions_list()}


def test_a_day_ending_exactly_at_the_cutoff_is_dropped(tenant, device):
    ingest(device, at(-61, 23))
    partitions_maintain()

    report = events_purge(now=NOW)  # acme in UTC: cutoff at(-60, 0), the day's end

    assert [p.name for p in report.partitions] == [day(-61)]
    assert report.tenants[0].events == 0
    assert Event.objects.count() == 0


def test_a_busy_partition_is_left_and_its_rows_deleted_in_batches(tenant, device, monkeypatch):
    ingest(device, at(-70, 12))
    partitions_maintain()
    monkeypatch.setattr(partitions_service, "LOCK_TIMEOUT", "200ms")
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    # Another session reading the events table holds a lock a DROP has to wait for.
    with psycopg.connect(**params, password=db["PASSWORD"] or None) as reader:
        reader.execute("SET lock_timeout = '5s'")
        reader.execute("LOCK TABLE ONLY events_event IN ACCESS SHARE MODE")
        report = events_purge(now=NOW)
        reader.rollback()

    assert report.partitions == []
    assert report.tenants[0].events == 1
    assert Event.objects.count() == 0


def test_every_expired_day_goes_in_one_drop(tenant, device):
    ingest(device, at(-75, 1), at(-70, 12), at(-61, 23), at(-59, 12))
    partitions_maintain()

    with CaptureQueriesContext(connection) as queries:
        report = events_purge(now=NOW)  # acme in UTC: cutoff at(-60, 0)

    expired = [day(-75), day(-70), day(-61)]  # the old days with rows have children
    assert [p.name for p in report.partitions] == expired
    drops = [q["sql"] for q in queries if q["sql"].startswith("DROP TABLE")]
    assert len(drops) == 1 and all(name in drops[0] for name in expired)
    assert kept(device) == [at(-59, 12)]
    assert report.tenants[0].events == 0


def analyze_children() -> None:
    """What autovacuum does for each partition (never for the partitioned parent)."""
    for child in partitions_list():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {child.schema}.{child.name}")


@pytest.mark.parametrize("analysed", [True, False])
def test_the_command_reports_the_dropped_partitions_rows(two_tenants, analysed):
    # Analysed: the planner's estimate (small tables: ANALYZE reads every row, so exact);
    # never analysed (just filled): counted.
    if analysed:
        analyze_children()
    planned = events_purge(dry_run=True).partitions
    counts = [Event.objects.filter(ts__gte=p.start, ts__lt=p.end).count() for p in planned]
    out = StringIO()

    call_command("purge_events", stdout=out)

    assert [p.rows for p in planned] == (counts if analysed else [None] * len(planned))
    assert sum(counts) >= 2  # days -70 and -62 at least
    total = out.getvalue().splitlines()[-1]
    assert total.endswith(
        f"and {len(planned)} daily partitions whole (about {sum(counts)} events)."
    )
    assert not Event.objects.filter(ts__lt=planned[-1].end).exists()
