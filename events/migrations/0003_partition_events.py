"""Range-partition the raw events table by day on PostgreSQL, kept by pg_partman 4.x.

SQLite keeps one plain table: both directions do nothing there.

Forward, from an empty table or one full of events: the old table is renamed,
a partitioned table with the same columns, constraints, indexes and names takes
its name, pg_partman makes a daily child for every day that holds rows and the
next PREMAKE_DAYS days plus a default child for stragglers, the rows are copied
with one INSERT ... SELECT and the old table is dropped. It all runs in the
migration's transaction, so a failure leaves the old table as it was; the table
is locked for writes for as long as the copy takes.

Backward (reversible): the rows go back into a plain table built by Django from
the model, and pg_partman forgets the set. The extension itself stays installed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import migrations

PARTMAN_SCHEMA = "partman"
# Days of partitions made ahead of today. The maintenance job runs hourly; two
# weeks ahead leaves room for it to be down for days before rows land in the
# default partition (where they are still stored and queried, only not dropped
# with their day).
PREMAKE_DAYS = 14
COLUMNS = "id, device_id, channel, ts, received_at, state, value"


def _partman(cursor) -> str:
    """The schema pg_partman lives in, installing it (4.x only) when it is not yet there."""
    cursor.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions"
        " WHERE name = 'pg_partman'"
    )
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError(
            "Partitioned events need the pg_partman extension on the PostgreSQL server "
            "(Debian: apt-get install postgresql-15-partman); see README, 'Operating'."
        )
    version = row[1] or row[0]
    if not version.startswith("4."):
        raise RuntimeError(f"This migration uses the pg_partman 4.x API; the server has {version}.")
    if row[1] is None:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTMAN_SCHEMA}")
        cursor.execute(f"CREATE EXTENSION pg_partman SCHEMA {PARTMAN_SCHEMA}")
    cursor.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_partman'"
    )
    return cursor.fetchone()[0]


def _qualified(cursor, table: str) -> str:
    """schema.table, as pg_partman names a partition set."""
    cursor.execute(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = %s::regclass", [table]
    )
    return f"{cursor.fetchone()[0]}.{table}"


def _free_names(cursor, table: str) -> None:
    """Drop the table's indexes and the constraints backed by one: index names are unique
    per schema, and the new table takes the same ones."""
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        [table],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    cursor.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [table]
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP INDEX {name}")


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("events", "Event")._meta.db_table
    old = f"{table}_unpartitioned"
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    horizon = today + timedelta(days=PREMAKE_DAYS)
    with schema_editor.connection.cursor() as cursor:
        partman = _partman(cursor)
        # Daily boundaries (and pg_partman's child names) are UTC days.
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        parent = _qualified(cursor, table)
        # What to rebuild, read while the names still point at the old table.
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (old_sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass ORDER BY contype, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = %s::regclass"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            "  WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid) ORDER BY 1",
            [table],
        )
        indexes = [definition for (definition,) in cursor.fetchall()]

        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cursor.execute(f'ALTER SEQUENCE {old_sequence} RENAME TO "{old}_id_seq"')
        _free_names(cursor, old)

        # PostgreSQL 15 has no identity columns on partitioned tables: a sequence of
        # our own, continuing where the old one stopped (no id is ever handed out twice).
        cursor.execute(f'CREATE SEQUENCE "{table}_id_seq" AS bigint')
        cursor.execute(f'CREATE TABLE "{table}" (LIKE "{old}") PARTITION BY RANGE (ts)')
        cursor.execute(
            f"""ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval('"{table}_id_seq"')"""
        )
        cursor.execute(f'ALTER SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
        cursor.execute(
            f'SELECT setval(%s::regclass, last_value, is_called) FROM "{old}_id_seq"',
            [f'"{table}_id_seq"'],
        )
        for name, kind, definition in constraints:
            if kind == "p":
                # Every unique key of a partitioned table must contain the partition
                # column; `id` stays unique in practice (one sequence) and remains
                # Django's primary key, so lookups, admin and deletes by pk work.
                definition = "PRIMARY KEY (id, ts)"
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for definition in indexes:
            cursor.execute(definition)

        cursor.execute(
            f"SELECT {partman}.create_parent(p_parent_table => %s, p_control => 'ts',"
            " p_type => 'native', p_interval => '1 day', p_premake => %s,"
            " p_start_partition => %s, p_jobmon => false)",
            [parent, PREMAKE_DAYS, today.isoformat()],
        )
        # Premake from the clock, not from the newest row (a quiet week must not stop
        # the premaking, and one far-future straggler in the default partition must not
        # make pg_partman create every day up to it). No `retention`: pg_partman's is per
        # table, ours per tenant, so dropping is the purge's job (events/services/partitions.py).
        cursor.execute(
            f"UPDATE {partman}.part_config SET infinite_time_partitions = true,"
            " ignore_default_data = true WHERE parent_table = %s",
            [parent],
        )
        # A child for every day up to the horizon that holds rows; later ones stay in
        # the default partition until the horizon reaches them.
        cursor.execute(
            f"SELECT {partman}.create_partition_time(%s, ARRAY(SELECT DISTINCT date_trunc('day', ts)"
            f' FROM "{old}" WHERE ts < %s ORDER BY 1), p_analyze => false)',
            [parent, horizon],
        )
        cursor.execute(f'INSERT INTO "{table}" ({COLUMNS}) SELECT {COLUMNS} FROM "{old}"')
        cursor.execute(f'DROP TABLE "{old}"')
        cursor.execute(f'ANALYZE "{table}"')


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("events", "Event")
    table = model._meta.db_table
    old = f"{table}_partitioned"
    with schema_editor.connection.cursor() as cursor:
        partman = _partman(cursor)
        parent = _qualified(cursor, table)
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (old_sequence,) = cursor.fetchone()
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cursor.execute(f'ALTER SEQUENCE {old_sequence} RENAME TO "{old}_id_seq"')
        _free_names(cursor, old)
    # Django builds the plain table, with the names the first migrations gave it.
    schema_editor.create_model(model)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({COLUMNS}) OVERRIDING SYSTEM VALUE SELECT {COLUMNS} FROM "{old}"'
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), last_value, is_called)"
            f' FROM "{old}_id_seq"',
            [table],
        )
        cursor.execute(f'DROP TABLE "{old}"')  # its children, its default and its sequence too
        cursor.execute(
            f"DELETE FROM {partman}.part_config WHERE parent_table = %s RETURNING template_table",
            [parent],
        )
        for (template,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE IF EXISTS {template}")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_rollups"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
