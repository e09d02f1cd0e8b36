from __future__ import annotations

from django.core.management.base import BaseCommand

from devices.services import key_revoke
from telemetry.commands import run_service


class Command(BaseCommand):
    help = (
        "Revoke an API key by its prefix (its first 8 characters); effective on the next request."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("prefix", help="the key's first 8 characters")

    def handle(self, *args, **options) -> None:
        key = run_service(lambda: key_revoke(prefix=options["prefix"][:8]))
        self.stdout.write(f"Revoked key {key.prefix}… of {key.device}.")
