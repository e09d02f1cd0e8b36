"""PostgreSQL: the events table is partitioned by UTC day and pg_partman keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin import AdminSite, ModelAdmin
from django.db import DatabaseError, connection, transaction
from django.db.utils import IntegrityError

from events.models import Event
from events.serializers import Reading
from events.services import events_ingest_batch
from events.services.partitions import partitions_list, partitions_maintain

pytestmark = pytest.mark.postgres

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DEFAULT = "events_event_default"


def day(offset: int) -> str:
    """The name of the child holding the UTC day `offset` days from today."""
    return f"events_event_p{TODAY + timedelta(days=offset):%Y_%m_%d}"


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def home_of(ts: datetime) -> str:
    """The partition that stores the event at `ts`."""
    [(name,)] = sql("SELECT tableoid::regclass::text FROM events_event WHERE ts = %s", [ts])
    return name


def ingest(device, *moments: datetime) -> None:
    readings = [Reading("temperature", ts, value=20.0 + n) for n, ts in enumerate(moments)]
    events_ingest_batch(device=device, items=readings, received_at=datetime.now(UTC))


def drop_children(*offsets: int) -> None:
    for offset in offsets:
        sql(f"DROP TABLE {day(offset)}")


def test_a_fresh_database_has_daily_partitions_two_weeks_ahead_and_a_default(db):
    children = partitions_list()

    assert [child.name for child in children] == [day(n) for n in range(15)]
    assert all(child.end - child.start == timedelta(days=1) for child in children)
    assert children[0].start == TODAY
    assert sql("SELECT pg_get_partkeydef('events_event'::regclass)") == [("RANGE (ts)",)]
    assert sql(
        "SELECT relname FROM pg_class WHERE relispartition"
        " AND pg_get_expr(relpartbound, oid) = 'DEFAULT'"
    ) == [(DEFAULT,)]
    assert sql(
        "SELECT premake, retention, infinite_time_partitions, ignore_default_data"
        " FROM partman.part_config WHERE parent_table = 'public.events_event'"
    ) == [(14, None, True, True)]


def test_the_table_keeps_its_constraints_indexes_and_id_sequence(db):
    constraints = sql(
        "SELECT conname, contype FROM pg_constraint"
        " WHERE conrelid = 'events_event'::regclass ORDER BY conname"
    )
    indexes = sql(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = 'events_event'::regclass ORDER BY 1"
    )

    assert [
        (name, kind) for name, kind in constraints if not name.endswith("_fk_devices_device_id")
    ] == [
        ("event_state_xor_value", "c"),
        ("event_unique_device_channel_ts", "u"),
        ("events_event_pkey", "p"),
    ]
    assert len(constraints) == 4  # and the device foreign key
    defs = dict(indexes)
    assert defs["events_event_pkey"].endswith("USING btree (id, ts)")
    assert defs["event_unique_device_channel_ts"].endswith("USING btree (device_id, channel, ts)")
    assert defs["event_device_ts"].endswith("USING btree (device_id, ts)")
    assert defs["event_received_at"].endswith("USING btree (received_at)")
    assert sql("SELECT pg_get_serial_sequence('events_event', 'id')") == [
        ("public.events_event_id_seq",)
    ]


def test_ingest_stores_each_event_in_its_days_partition(device):
    today, in_a_week = TODAY + timedelta(hours=1), TODAY + timedelta(days=7, hours=23)
    yesterday, next_month = TODAY - timedelta(hours=1), TODAY + timedelta(days=30)

    ingest(device, today, in_a_week, yesterday, next_month)

    assert home_of(today) == day(0)
    assert home_of(in_a_week) == day(7)
    assert home_of(yesterday) == DEFAULT  # no child before the first one made
    assert home_of(next_month) == DEFAULT  # beyond the premade days
    assert Event.objects.filter(device=device).count() == 4


def test_the_unique_key_still_refuses_a_second_event_at_the_same_instant(device):
    ingest(device, TODAY + timedelta(hours=2))

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(
            device=device, channel="temperature", ts=TODAY + timedelta(hours=2),
            received_at=TODAY, value=1.0,
        )  # fmt: skip


def test_maintenance_makes_the_missing_days_ahead(db):
    drop_children(11, 12, 13, 14)

    report = partitions_maintain()

    # The hourly job guarantees today and the next 13 days; pg_partman's own premake
    # may reach a day or two further depending on the hour it runs at.
    assert report.created[:3] == [day(11), day(12), day(13)]
    assert set(report.created[3:]) <= {day(14), day(15)}
    names = [child.name for child in partitions_list()]
    assert names[:14] == [day(n) for n in range(14)]
    assert report.moved == 0


def test_maintenance_moves_rows_out_of_the_default_partition_into_their_day(device):
    drop_children(10, 11, 12, 13, 14)
    late, old = (
        TODAY + timedelta(days=12, hours=10),
        TODAY - timedelta(days=30) + timedelta(hours=5),
    )
    far = TODAY + timedelta(days=400)
    ingest(device, late, old, far)
    assert {home_of(late), home_of(old), home_of(far)} == {DEFAULT}

    report = partitions_maintain()

    assert report.moved == 2
    assert home_of(late) == day(12)
    assert home_of(old) == day(-30)
    assert home_of(far) == DEFAULT  # a child for a day a year ahead would be a stray
    assert report.created[:5] == [day(-30), day(10), day(11), day(12), day(13)]
    assert set(report.created[5:]) <= {day(14), day(15)}
    assert Event.objects.filter(device=device).count() == 3


def test_pg_partman_alone_refuses_to_premake_over_rows_in_the_default(device):
    drop_children(13, 14)
    ingest(device, TODAY + timedelta(days=13, hours=1))

    with pytest.raises(DatabaseError, match="default partition"), transaction.atomic():
        sql("SELECT partman.run_maintenance('public.events_event', p_jobmon => false)")


def test_a_second_maintenance_run_finds_nothing_to_do(device):
    drop_children(14)
    ingest(device, TODAY - timedelta(days=3))
    partitions_maintain()

    again = partitions_maintain()

    assert (again.created, again.moved, again.skipped) == ([], 0, False)


def test_the_orm_and_admin_list_filter_and_delete_events_by_pk(device, admin_user, rf):
    moments = [TODAY + timedelta(hours=1), TODAY + timedelta(days=1), TODAY + timedelta(days=20)]
    ingest(device, *moments)
    ids = list(Event.objects.order_by("ts").values_list("pk", flat=True))
    request = rf.get("/admin/events/event/")
    request.user = admin_user
    admin = ModelAdmin(Event, AdminSite())

    listed = list(admin.get_changelist_instance(request).result_list)
    found = admin.get_object(request, str(ids[1]))
    admin.delete_queryset(request, Event.objects.filter(pk=ids[2]))
    Event.objects.get(pk=ids[0]).delete()

    assert sorted(event.pk for event in listed) == ids
    assert found.ts == moments[1]
    assert list(Event.objects.filter(ts__gte=TODAY).values_list("pk", flat=True)) == [ids[1]]
