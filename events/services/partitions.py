"""Daily partitions of the raw events table on PostgreSQL, kept by pg_partman 4.x.

Migration 0003 made the table and told pg_partman about it. Children cover UTC
days; rows outside every child (too far ahead, or in a day nobody made yet) go to
the default child, where they are stored and queried like any other. SQLite keeps
one plain table, so everything here does nothing there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.db import OperationalError, connection, transaction

from events.models import Event

logger = logging.getLogger(__name__)

# A DROP or ATTACH needs a brief exclusive lock on the events table. Behind a
# long query it would queue every insert after itself: give up instead, the next
# run tries again (and the purge batch-deletes what a skipped drop leaves).
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Partition:
    schema: str
    name: str
    start: datetime  # inclusive
    end: datetime  # exclusive
    # The planner's estimate (autovacuum keeps it), None until first analysed; a dropped
    # child's rows are counted exactly when it has none (partitions_drop_before).
    rows: int | None


@dataclass
class MaintenanceReport:
    created: list[str] = field(default_factory=list)
    moved: int = 0  # rows moved out of the default partition into their day's child
    skipped: bool = False  # another maintenance run held the lock


def is_partitioned() -> bool:
    """Whether the events table is partitioned here (PostgreSQL, after migration 0003)."""
    return connection.vendor == "postgresql"


def _partman(cursor) -> str:
    cursor.execute(
        "SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension"
        " WHERE extname = 'pg_partman'"
    )
    return cursor.fetchone()[0]


def _parent(cursor) -> str:
    """The set's name as pg_partman keeps it: schema.table."""
    cursor.execute(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = %s::regclass",
        [Event._meta.db_table],
    )
    return f"{cursor.fetchone()[0]}.{Event._meta.db_table}"


def _children(cursor, *, partman: str, parent: str) -> list[Partition]:
    cursor.execute(
        "SELECT p.partition_schemaname, p.partition_tablename, i.child_start_time,"
        " i.child_end_time, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END"
        f" FROM {partman}.show_partitions(%s, 'ASC') p CROSS JOIN LATERAL"
        f" {partman}.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename,"
        "  p_parent_table => %s) i"
        " JOIN pg_class c ON c.oid ="
        "  (quote_ident(p.partition_schemaname) || '.' || quote_ident(p.partition_tablename))"
        "::regclass",
        [parent, parent],
    )
    return [Partition(*row) for row in cursor.fetchall()]


def partitions_list() -> list[Partition]:
    """The daily children, oldest first (the default partition is not one of them)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        return _children(cursor, partman=_partman(cursor), parent=_parent(cursor))


def partitions_maintain() -> MaintenanceReport:
    """Make the next days' children ahead of time and move rows that have a day by now out
    of the default partition. Idempotent; one run at a time (a second one skips)."""
    report = MaintenanceReport()
    if not is_partitioned():
        return report
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        partman, parent = _partman(cursor), _parent(cursor)
        # The lock pg_partman's own run_maintenance() takes (also from its background
        # worker, if an operator runs one): the same process may take it again below.
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('pg_partman run_maintenance'))")
        if not cursor.fetchone()[0]:
            report.skipped = True
            return report
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # children are UTC days
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        before = {child.name for child in _children(cursor, partman=partman, parent=parent)}
        cursor.execute(
            f"SELECT premake FROM {partman}.part_config WHERE parent_table = %s", [parent]
        )
        horizon = today + timedelta(days=cursor.fetchone()[0])

        # pg_partman refuses to make a child whose range has rows in the default
        # partition: move them first, a day at a time, oldest first. Rows past the
        # horizon wait there (a child for a far-future day would be a stray).
        default = f"{Event._meta.db_table}_default"
        cursor.execute(
            "SELECT count(DISTINCT date_trunc('day', ts))"
            f" FROM {connection.ops.quote_name(default)} WHERE ts < %s",
            [horizon],
        )
        (days,) = cursor.fetchone()
        if days:
            cursor.execute(
                f"SELECT {partman}.partition_data_time(%s, p_batch_count => %s,"
                " p_analyze => false)",
                [parent, days],
            )
            report.moved = cursor.fetchone()[0]

        cursor.execute(f"SELECT {partman}.run_maintenance(%s, p_jobmon => false)", [parent])
        # run_maintenance() premakes after the newest child only. When the job fell
        # behind and a move above made a child beyond days still missing, fill those.
        cursor.execute(
            f"SELECT {partman}.create_partition_time(%s, ARRAY(SELECT generate_series("
            "  %s::timestamptz, %s::timestamptz, interval '1 day')), p_analyze => false)",
            [parent, today, horizon - timedelta(days=1)],
        )
        after = _children(cursor, partman=partman, parent=parent)
    report.created = [child.name for child in after if child.name not in before]
    return report


def partitions_drop_before(*, cutoff: datetime, dry_run: bool = False) -> list[Partition]:
    """Drop every child whose whole day ends at or before `cutoff`; what was (or, on a dry
    run, would be) dropped. The caller vouches that all rows there are expired for every
    tenant and rolled up. One statement and one commit for them all (a commit per child
    cost 20 ms each). Idempotent; if a lock is busy, nothing is dropped this time."""
    expired = [child for child in partitions_list() if child.end <= cutoff]
    if dry_run or not expired:
        return expired
    quote = connection.ops.quote_name
    names = {child.name: f"{quote(child.schema)}.{quote(child.name)}" for child in expired}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            expired = [_counted(cursor, child, names[child.name]) for child in expired]
            cursor.execute(f"DROP TABLE {', '.join(names.values())}")
    except OperationalError:
        logger.warning("events partitions are busy; %d drops wait for the next run", len(expired))
        return []
    return expired


def _counted(cursor, child: Partition, name: str) -> Partition:
    """`child` with its rows counted, unless the planner already estimates them (counting
    reads them all; a child never analysed is one filled since autovacuum last looked)."""
    if child.rows is not None:
        return child
    cursor.execute(f"SELECT count(*) FROM {name}")
    return replace(child, rows=cursor.fetchone()[0])
