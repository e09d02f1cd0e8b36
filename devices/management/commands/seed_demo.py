from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.http import Http404

from accounts.models import Role
from accounts.selectors import tenant_get, user_exists
from accounts.services import password_generate, tenant_create, user_create
from devices.selectors import device_get
from devices.services import device_register, key_create
from telemetry.errors import NotFound

DEMO_TENANT, DEMO_USER, DEMO_DEVICE = "demo", "demo", "esp32-01"


class Command(BaseCommand):
    help = (
        "Create, only when missing, a demo tenant, an admin user 'demo' and a device "
        "'esp32-01'; print the password and the device key on the run that creates them."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            try:
                tenant = tenant_get(slug=DEMO_TENANT)
            except NotFound:
                tenant = tenant_create(slug=DEMO_TENANT, name="Demo")
            if user_exists(username=DEMO_USER):
                self.stdout.write(
                    f"Login:      {DEMO_USER} (stored hashed; set a new password with "
                    f"'python manage.py changepassword {DEMO_USER}')"
                )
            else:
                password = password_generate()
                user_create(tenant=tenant, username=DEMO_USER, password=password, role=Role.ADMIN)
                self.stdout.write(f"Login:      {DEMO_USER} / {password}")
            try:
                device_get(tenant=tenant, device_id=DEMO_DEVICE)
                self.stdout.write(
                    "Device key: stored hashed; make a new one with "
                    f"'python manage.py create_key {DEMO_TENANT} {DEMO_DEVICE}'"
                )
            except Http404:
                device = device_register(
                    tenant=tenant, device_id=DEMO_DEVICE, name="Pool controller"
                )
                self.stdout.write(f"Device key: {key_create(device=device).raw_key}")
