from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import DEFAULT_WRITE_RATE
from accounts.services import tenant_create
from telemetry.commands import run_service


class Command(BaseCommand):
    help = "Create a tenant. An existing slug is an error."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="short unique id, e.g. acme")
        parser.add_argument("--name", default="", help="display name (default: the slug)")
        parser.add_argument("--time-zone", default="UTC", help="IANA zone for daily summaries")
        parser.add_argument(
            "--retention-days", type=int, default=60, help="days raw events are kept (default 60)"
        )
        parser.add_argument(
            "--write-rate",
            default=DEFAULT_WRITE_RATE,
            help=f"writes per device, django-ratelimit syntax (default {DEFAULT_WRITE_RATE})",
        )

    def handle(self, *args, **options) -> None:
        tenant = run_service(
            lambda: tenant_create(
                slug=options["slug"],
                name=options["name"],
                time_zone=options["time_zone"],
                raw_retention_days=options["retention_days"],
                write_rate=options["write_rate"],
            )
        )
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}, {tenant.time_zone}).")
