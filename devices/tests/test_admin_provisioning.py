"""Acceptance: a superuser creates a tenant, a device and a key entirely from Django
admin; the key posts an event and is never shown again."""

from __future__ import annotations

import re

from django.db import connection
from django.urls import reverse

from accounts.models import Tenant
from devices.models import Device, DeviceAPIKey
from events.models import Event
from testsupport import key_header

KEY_RE = re.compile(r'<code class="new-key">([A-Za-z0-9]+)</code>')
NO_KEY_ROWS = {"api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"}


def create_tenant(admin_client) -> Tenant:
    admin_client.post(
        reverse("admin:accounts_tenant_add"),
        {
            "slug": "initech",
            "name": "Initech",
            "time_zone": "Europe/Madrid",
            "raw_retention_days": 60,
            "write_rate": "5/5s",
            "is_active": "on",
        },
    )
    return Tenant.objects.get(slug="initech")


def create_device(admin_client, tenant: Tenant) -> Device:
    form = {
        "tenant": tenant.pk,
        "device_id": "esp32-pool-01",
        "name": "Pool",
        "expected_interval_seconds": 300,
        **NO_KEY_ROWS,
    }
    response = admin_client.post(reverse("admin:devices_device_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Device.objects.get(tenant=tenant, device_id="esp32-pool-01")


def create_key(admin_client, device: Device) -> tuple[str, str]:
    response = admin_client.post(reverse("admin:devices_device_create_key", args=[device.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    return KEY_RE.search(page).group(1), page


def test_a_superuser_provisions_a_device_whose_key_posts_an_event(admin_client, api):
    device = create_device(admin_client, create_tenant(admin_client))
    raw_key, _ = create_key(admin_client, device)

    response = api.post(
        "/api/event", {"channel": "pump", "state": "ON"}, format="json", **key_header(raw_key)
    )

    assert response.json()["result"] == "stored"
    event = Event.objects.get()
    assert (event.device, event.channel, event.state) == (device, "pump", "ON")


def test_the_key_is_shown_once_and_never_again(admin_client):
    device = create_device(admin_client, create_tenant(admin_client))
    raw_key, page = create_key(admin_client, device)

    assert page.count(raw_key) == 1
    for url in (
        reverse("admin:devices_device_change", args=[device.pk]),
        reverse("admin:devices_device_changelist"),
        reverse("admin:devices_deviceapikey_changelist"),
        reverse("admin:devices_deviceapikey_change", args=[DeviceAPIKey.objects.get().pk]),
        reverse("admin:index"),  # recent actions
    ):
        assert raw_key not in admin_client.get(url).content.decode(), url


def test_the_database_keeps_only_the_prefix_and_digest(admin_client):
    device = create_device(admin_client, create_tenant(admin_client))
    raw_key, _ = create_key(admin_client, device)

    stored = DeviceAPIKey.objects.get(device=device)
    assert stored.prefix == raw_key[:8]
    with connection.cursor() as cursor:
        for table in (DeviceAPIKey._meta.db_table, "django_admin_log", "django_session"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            assert all(raw_key not in str(column) for row in cursor.fetchall() for column in row)


def test_the_key_page_is_never_cached(admin_client, device):
    response = admin_client.post(reverse("admin:devices_device_create_key", args=[device.pk]))

    assert "no-store" in response.headers["Cache-Control"]


def test_creating_a_key_needs_a_post(admin_client, device):
    response = admin_client.get(reverse("admin:devices_device_create_key", args=[device.pk]))

    assert response.status_code == 405
    assert not DeviceAPIKey.objects.exists()


def test_the_action_makes_one_key_per_selected_device(admin_client, device, other_device):
    response = admin_client.post(
        reverse("admin:devices_device_changelist"),
        {
            "action": "create_keys",
            "_selected_action": [device.pk, other_device.pk],
        },
    )

    keys = KEY_RE.findall(response.content.decode())
    assert len(keys) == 2
    assert {key.prefix for key in DeviceAPIKey.objects.all()} == {key[:8] for key in keys}


def test_a_devices_tenant_and_id_are_fixed_once_it_exists(admin_client, device, other_tenant):
    form = {
        "tenant": other_tenant.pk,
        "device_id": "moved",
        "name": "Renamed",
        "expected_interval_seconds": 600,
        **NO_KEY_ROWS,
    }

    admin_client.post(reverse("admin:devices_device_change", args=[device.pk]), form)

    device.refresh_from_db()
    assert (device.tenant.slug, device.device_id, device.name) == ("acme", "esp32-01", "Renamed")
    assert device.expected_interval_seconds == 600


def test_a_device_id_taken_in_the_tenant_is_refused(admin_client, device):
    form = {
        "tenant": device.tenant.pk,
        "device_id": "esp32-01",
        "expected_interval_seconds": 300,
        **NO_KEY_ROWS,
    }

    response = admin_client.post(reverse("admin:devices_device_add"), form)

    assert response.status_code == 200
    assert Device.objects.count() == 1
