"""Operators' read-only admin over events and rollups, built for tables of millions of
rows (STACK-NOTES.md): no COUNT(*) of the whole table, no filter that runs SELECT
DISTINCT over it, no sorting by an unindexed column, no page past a bounded offset."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from math import ceil

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Tenant
from devices.models import Device
from events.models import Channel, Event, Rollup
from events.serializers import FUTURE_TOLERANCE

# Filtered lists are counted exactly up to this many rows, and no page past it is
# offered: OFFSET n reads n rows, so deep pages cost what a COUNT(*) would.
COUNT_CAP = 10_000
DEVICES_LISTED = 100
CHANNELS_LISTED = 100


def _table_estimate(model: type) -> int:
    """PostgreSQL's planner estimate of the table's rows (kept by autovacuum, ANALYZE);
    -1 for a table never analysed. A partitioned table's is the sum of its partitions':
    autovacuum never analyses the parent itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN t.relkind <> 'p' THEN t.reltuples ELSE COALESCE(("
            "  SELECT sum(c.reltuples) FILTER (WHERE c.reltuples >= 0) FROM pg_inherits i"
            "  JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = t.oid), -1) END::bigint"
            " FROM pg_class t WHERE t.oid = %s::regclass",
            [model._meta.db_table],
        )
        return cursor.fetchone()[0]


class EstimatedCountPaginator(Paginator):
    """Unfiltered on PostgreSQL: the planner's estimate, read in one catalogue lookup.
    Otherwise (filtered, or on SQLite, where the embedded deployments stay small): an
    exact count that stops at COUNT_CAP + 1 rows, SELECT COUNT(*) FROM (… LIMIT n)."""

    @cached_property
    def _estimate(self) -> int | None:
        if self.object_list.query.where or connection.vendor != "postgresql":
            return None
        estimate = _table_estimate(self.object_list.model)
        return estimate if estimate > COUNT_CAP else None  # below it, counting is cheap

    @cached_property
    def _bounded_count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def count_is_estimate(self) -> bool:
        return self._estimate is not None

    @property
    def count_is_capped(self) -> bool:
        return not self.count_is_estimate and self._bounded_count > COUNT_CAP

    @cached_property
    def count(self) -> int:
        if self.count_is_estimate:
            return self._estimate
        return min(self._bounded_count, COUNT_CAP)

    @cached_property
    def num_pages(self) -> int:
        hits = max(1, self.count - self.orphans)
        return min(ceil(hits / self.per_page), max(1, COUNT_CAP // self.per_page))


def _as_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class TenantFilter(admin.SimpleListFilter):
    """Choices from the tenants table, never SELECT DISTINCT over the big one."""

    title = "tenant"
    parameter_name = "tenant"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [
            (str(pk), slug)
            for pk, slug in Tenant.objects.order_by("slug").values_list("pk", "slug")
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        tenant_id = _as_int(self.value())
        return queryset if tenant_id is None else queryset.filter(device__tenant_id=tenant_id)


class DeviceFilter(admin.SimpleListFilter):
    """The chosen tenant's devices (the first DEVICES_LISTED), or the one device asked for."""

    title = "device"
    parameter_name = "device"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        tenant_id, device_id = _as_int(request.GET.get("tenant")), _as_int(self.value())
        devices = Device.objects.order_by("device_id")
        if tenant_id is not None:
            devices = devices.filter(tenant_id=tenant_id)[:DEVICES_LISTED]
        elif device_id is not None:
            devices = devices.filter(pk=device_id)
        else:
            return []  # choose a tenant first: listing every device would not scale
        return [(str(pk), name) for pk, name in devices.values_list("pk", "device_id")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        device_id = _as_int(self.value())
        return queryset if device_id is None else queryset.filter(device_id=device_id)


class ChannelFilter(admin.SimpleListFilter):
    """Channel names from the channels table (one row per device and channel)."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        channels = Channel.objects.all()
        if (device_id := _as_int(request.GET.get("device"))) is not None:
            channels = channels.filter(device_id=device_id)
        elif (tenant_id := _as_int(request.GET.get("tenant"))) is not None:
            channels = channels.filter(device__tenant_id=tenant_id)
        names = channels.order_by("name").values_list("name", flat=True).distinct()
        return [(name, name) for name in names[:CHANNELS_LISTED]]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        # No index starts with the channel; naming the devices that have it lets
        # the (device, channel, …) unique index serve the lookup.
        owners = Channel.objects.filter(name=self.value()).values("device_id")
        return queryset.filter(channel=self.value(), device_id__in=owners)


class RecentFilter(admin.SimpleListFilter):
    """Events of the last hour, day, week or month (by `ts`).

    No index starts with `ts`, but one does with `received_at`, and ingest refuses a
    `ts` more than FUTURE_TOLERANCE ahead of its arrival, so ts >= t implies
    received_at >= t - FUTURE_TOLERANCE: the second, redundant bound lets that index
    serve the range. No "older than" choice: it would read every recent row first.
    """

    title = "time (ts)"
    parameter_name = "since"
    WINDOWS = {
        "1h": ("Last hour", 1),
        "24h": ("Last 24 hours", 24),
        "7d": ("Last 7 days", 24 * 7),
        "30d": ("Last 30 days", 24 * 30),
    }

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.WINDOWS.items()]

    def queryset(self, request, queryset: QuerySet[Event]) -> QuerySet[Event]:
        if self.value() not in self.WINDOWS:
            return queryset
        start = timezone.now() - timedelta(hours=self.WINDOWS[self.value()][1])
        return queryset.filter(ts__gte=start, received_at__gte=start - FUTURE_TOLERANCE)


class ReadOnlyBigTableAdmin(admin.ModelAdmin):
    """Viewing only: events come from devices, rollups from the rollup job."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False  # else a second COUNT(*) of the whole table
    show_facets = admin.ShowFacets.NEVER  # "Show counts" would count every filter choice
    list_select_related = ["device__tenant"]
    # Newest first along the primary key; no column sorting, as ORDER BY an
    # unindexed column reads the whole table before the first row.
    ordering = ["-pk"]
    sortable_by = []

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retention is the purge job's work, in bounded batches


@admin.register(Event)
class EventAdmin(ReadOnlyBigTableAdmin):
    list_display = ["ts", "device", "channel", "state", "value", "received_at"]
    list_filter = [TenantFilter, DeviceFilter, ChannelFilter, RecentFilter]


@admin.register(Rollup)
class RollupAdmin(ReadOnlyBigTableAdmin):
    list_display = [
        "bucket_start",
        "period",
        "device",
        "channel",
        "count",
        "changes",
        "min",
        "max",
        "last_state",
        "last_value",
        "covered_until",
    ]
    list_filter = [TenantFilter, DeviceFilter, "period", ChannelFilter]
