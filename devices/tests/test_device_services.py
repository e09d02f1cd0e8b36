"""device_provision registers a device with its first key (both or neither);
device_update changes only the name and the expected report interval."""

from __future__ import annotations

import pytest

from devices.models import Device, DeviceAPIKey
from devices.services import device_provision, device_update
from telemetry.errors import BadInput, Conflict


def test_provision_makes_the_device_and_one_live_key(tenant):
    new_key = device_provision(tenant=tenant, device_id="esp32-02", expected_interval_seconds=60)

    device = Device.objects.get(tenant=tenant, device_id="esp32-02")
    assert (device.name, device.expected_interval_seconds) == ("esp32-02", 60)
    assert list(DeviceAPIKey.objects.filter(device=device)) == [new_key.key]


def test_provision_of_a_taken_id_stores_no_key(device):
    with pytest.raises(Conflict):
        device_provision(tenant=device.tenant, device_id="esp32-01")

    assert not DeviceAPIKey.objects.exists()


def test_update_saves_name_and_interval(device):
    device_update(device=device, name="Pool", expected_interval_seconds=120)

    device.refresh_from_db()
    assert (device.name, device.expected_interval_seconds, device.tenant.slug) == (
        "Pool",
        120,
        "acme",
    )


@pytest.mark.parametrize("seconds", [0, 9, 7 * 24 * 3600 + 1])
def test_update_refuses_an_interval_out_of_range(device, seconds):
    with pytest.raises(BadInput):
        device_update(device=device, name="Pool", expected_interval_seconds=seconds)

    device.refresh_from_db()
    assert device.expected_interval_seconds == 300
