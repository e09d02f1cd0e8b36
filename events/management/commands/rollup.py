from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import tenant_get
from devices.selectors import device_get
from events.serializers import parse_time_param
from events.services.rollup import rollup_rebuild, rollup_run
from telemetry.commands import run_service
from telemetry.errors import BadInput


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_time_param(raw, name=name)
    except BadInput as exc:
        raise CommandError(exc.message) from None


class Command(BaseCommand):
    help = (
        "Summarise raw events into hourly and daily rollups. With no option, do what the "
        "scheduled job does (what arrived since its last run); with --tenant, rebuild that "
        "tenant's (or one device's) rollups over a range from the raw events still kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="rebuild this tenant's rollups")
        parser.add_argument("--device", metavar="ID", help="only this device (needs --tenant)")
        parser.add_argument(
            "--since", help="rebuild from this time (ISO 8601 with offset, or epoch ms)"
        )
        parser.add_argument("--until", help="rebuild up to this time (default: now)")

    def handle(self, *args, **options) -> None:
        since, until = _time(options["since"], "since"), _time(options["until"], "until")
        if options["tenant"] is None:
            if options["device"] or since or until:
                raise CommandError("--device, --since and --until need --tenant")
            report = rollup_run()
            self.stdout.write(f"Rolled up {report.channels} channels: {report.rows} rows written.")
            return
        tenant = run_service(lambda: tenant_get(slug=options["tenant"]))
        device = None
        if options["device"]:
            device = run_service(lambda: device_get(tenant=tenant, device_id=options["device"]))
        written = 0

        def progress(rows: int) -> None:
            nonlocal written
            written += rows
            self.stdout.write(f"  ... {written} rows written")

        scope = f"{tenant.slug}/{device.device_id}" if device else tenant.slug
        self.stdout.write(f"Rebuilding rollups of {scope}")
        report = rollup_rebuild(
            tenant=tenant, device=device, since=since, until=until, progress=progress
        )
        hours, days = report.by_period.get("hour", 0), report.by_period.get("day", 0)
        self.stdout.write(
            f"Rebuilt {report.channels} channels: {hours} hourly and {days} daily rows."
        )
