"""A tenant admin registers a device in their tenant; its first key is shown once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from devices import errors
from devices.models import Device, DeviceAPIKey
from events.models import Event
from testsupport import key_header

URL = reverse("devices:manage-device-add")
FORM = {"device_id": "esp32-pool-02", "name": "Pool 2", "expected_interval_seconds": 60}


def test_it_registers_the_device_in_the_admins_tenant(ada_client, tenant):
    response = ada_client.post(URL, FORM)

    assert response.status_code == 200
    device = Device.objects.get(device_id="esp32-pool-02")
    assert (device.tenant, device.name, device.expected_interval_seconds) == (tenant, "Pool 2", 60)


def test_its_first_key_is_shown_once_and_posts_events(ada_client, api):
    response = ada_client.post(URL, FORM)

    raw_key = response.context["secret"]
    assert raw_key in response.content.decode()
    assert "no-store" in response.headers["Cache-Control"]
    stored = DeviceAPIKey.objects.get(device__device_id="esp32-pool-02")
    assert stored.prefix == raw_key[:8] and raw_key not in stored.digest
    posted = api.post(
        "/api/event", {"channel": "pump", "state": "ON"}, format="json", **key_header(raw_key)
    )
    assert posted.json()["result"] == "stored"
    assert Event.objects.get(device__device_id="esp32-pool-02").state == "ON"
    page = ada_client.get(reverse("devices:manage-device", args=["esp32-pool-02"]))
    assert raw_key not in page.content.decode()


def test_the_interval_defaults_to_five_minutes_on_the_form(ada_client):
    response = ada_client.get(URL)

    assert response.context["form"]["expected_interval_seconds"].value() == 300


def test_a_device_id_taken_in_another_tenant_is_fine(ada_client, other_device):
    response = ada_client.post(URL, {**FORM, "device_id": "esp32-01"})

    assert response.status_code == 200
    assert Device.objects.filter(device_id="esp32-01").count() == 2


def test_a_device_id_taken_in_the_tenant_is_refused_without_a_key(ada_client, device, tenant):
    response = ada_client.post(URL, {**FORM, "device_id": "esp32-01"})

    assert response.context["form"].errors["device_id"] == [
        errors.DEVICE_EXISTS.format(device_id="esp32-01", tenant=tenant)
    ]
    assert DeviceAPIKey.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [{"device_id": "has space"}, {"expected_interval_seconds": 0}, {"device_id": ""}],
)
def test_it_refuses_bad_input(ada_client, change):
    response = ada_client.post(URL, {**FORM, **change})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Device.objects.exists()


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_and_viewers_get_403(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.post(URL, FORM).status_code == 403
    assert not Device.objects.exists()
