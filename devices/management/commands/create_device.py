from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.selectors import tenant_get
from devices.services import device_provision
from telemetry.commands import run_service


class Command(BaseCommand):
    help = "Register a device in a tenant and print its first API key (alone, on the last line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("device_id", help="the id the hardware sends, e.g. esp32-pool-01")
        parser.add_argument("--name", default="", help="display name (default: the id)")

    def handle(self, *args, **options) -> None:
        tenant = run_service(lambda: tenant_get(slug=options["tenant_slug"]))
        new_key = run_service(
            lambda: device_provision(
                tenant=tenant, device_id=options["device_id"], name=options["name"]
            )
        )
        self.stdout.write(f"Registered {new_key.key.device}. Its API key (shown only now):")
        self.stdout.write(new_key.raw_key)
