from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.selectors import tenant_get
from devices.selectors import device_get
from devices.services import key_create
from telemetry.commands import run_service


class Command(BaseCommand):
    help = "Create another API key for a device and print it (alone, on the last line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("device_id")
        parser.add_argument("--name", default="", help="a label, e.g. where the key is used")

    def handle(self, *args, **options) -> None:
        tenant = run_service(lambda: tenant_get(slug=options["tenant_slug"]))
        device = run_service(lambda: device_get(tenant=tenant, device_id=options["device_id"]))
        new_key = key_create(device=device, name=options["name"])
        self.stdout.write(f"New API key for {device} (shown only now):")
        self.stdout.write(new_key.raw_key)
