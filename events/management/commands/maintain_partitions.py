from __future__ import annotations

from django.core.management.base import BaseCommand

from events.services.partitions import is_partitioned, partitions_list, partitions_maintain


class Command(BaseCommand):
    help = (
        "PostgreSQL: make the events table's daily partitions ahead of time (pg_partman's "
        "premake) and move rows whose day has come out of the default partition into their "
        "day's partition. What the hourly scheduled job does; safe to run any time. Old "
        "partitions are dropped by purge_events, never here. SQLite: nothing to do."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--list", action="store_true", help="afterwards, list every daily partition"
        )

    def handle(self, *args, **options) -> None:
        if not is_partitioned():
            self.stdout.write("Nothing to do: on SQLite the events table is one plain table.")
            return
        report = partitions_maintain()
        if report.skipped:
            self.stdout.write("Another maintenance run is in progress; nothing done.")
            return
        self.stdout.write(f"Moved {report.moved} rows out of the default partition.")
        created = ", ".join(report.created) or "none"
        self.stdout.write(f"Created {len(report.created)} partitions: {created}.")
        if options["list"]:
            for partition in partitions_list():
                span = f"{partition.start.isoformat()} to {partition.end.isoformat()}"
                self.stdout.write(f"{partition.name}: {span}")
