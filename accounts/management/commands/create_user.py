from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import Role
from accounts.selectors import tenant_get
from accounts.services import password_generate, user_create
from telemetry.commands import run_service


class Command(BaseCommand):
    help = "Create a user of a tenant. Without --password one is generated and printed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.MEMBER)
        parser.add_argument("--password", help="the password (default: generate one)")

    def handle(self, *args, **options) -> None:
        tenant = run_service(lambda: tenant_get(slug=options["tenant_slug"]))
        password = options["password"] or password_generate()
        user = run_service(
            lambda: user_create(
                tenant=tenant, username=options["username"], password=password, role=options["role"]
            )
        )
        self.stdout.write(f"Created {user.role} {user.username} in tenant {tenant.slug}.")
        if not options["password"]:
            self.stdout.write(f"Password: {password}")
