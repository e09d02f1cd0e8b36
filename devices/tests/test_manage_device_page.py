"""A tenant admin edits a device of their tenant: its name and expected report interval."""

from __future__ import annotations

import pytest
from django.urls import reverse

from devices.models import Device
from testsupport import make_device

URL = reverse("devices:manage-device", args=["esp32-01"])


def test_it_shows_the_devices_settings_and_keys(ada_client, device, device_key):
    response = ada_client.get(URL)

    assert response.status_code == 200
    assert response.context["form"]["expected_interval_seconds"].value() == 300
    assert [key.prefix for key in response.context["keys"]] == [device_key[:8]]
    assert device_key not in response.content.decode()


def test_it_saves_the_name_and_interval(ada_client, device):
    response = ada_client.post(URL, {"name": "Pool pump", "expected_interval_seconds": 900})

    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.name, device.expected_interval_seconds) == ("Pool pump", 900)


def test_an_empty_name_falls_back_to_the_device_id(ada_client, device):
    ada_client.post(URL, {"name": "", "expected_interval_seconds": 300})

    device.refresh_from_db()
    assert device.name == "esp32-01"


def test_it_refuses_an_interval_under_ten_seconds(ada_client, device):
    response = ada_client.post(URL, {"name": "x", "expected_interval_seconds": 5})

    assert response.context["form"].errors["expected_interval_seconds"]
    device.refresh_from_db()
    assert device.expected_interval_seconds == 300


def test_it_answers_404_for_a_device_only_another_tenant_owns(ada_client, other_tenant):
    make_device(other_tenant, "globex-only")
    url = reverse("devices:manage-device", args=["globex-only"])

    assert ada_client.get(url).status_code == 404
    assert (
        ada_client.post(url, {"name": "mine", "expected_interval_seconds": 60}).status_code == 404
    )
    assert Device.objects.get(device_id="globex-only").name == "globex-only"


def test_it_edits_its_own_tenants_device_when_both_share_an_id(ada_client, device, other_device):
    ada_client.post(URL, {"name": "Acme pool", "expected_interval_seconds": 60})

    device.refresh_from_db()
    other_device.refresh_from_db()
    assert (device.name, other_device.name) == ("Acme pool", "esp32-01")


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_and_viewers_get_403(client, who, request, device):
    client.force_login(request.getfixturevalue(who))

    assert client.post(URL, {"name": "x", "expected_interval_seconds": 60}).status_code == 403
    device.refresh_from_db()
    assert device.name == "esp32-01"
