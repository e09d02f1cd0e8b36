"""A key's last use and its device's last report are noted at most once a minute;
only posted events count as the device reporting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.models import Device, DeviceAPIKey
from devices.services import device_note_seen, key_note_used
from testsupport import bearer, key_header

EVENT = {"channel": "pump", "state": "ON"}


def test_a_post_notes_the_key_used_and_the_device_seen(api, device, device_key):
    before = datetime.now(UTC)

    api.post("/api/event", EVENT, format="json", **key_header(device_key))

    key = DeviceAPIKey.objects.get(prefix=device_key[:8])
    device.refresh_from_db()
    assert key.last_used_at >= before
    assert device.last_seen_at >= before


def test_a_read_with_the_key_is_not_the_device_reporting(api, device, device_key):
    api.get("/api/history", **key_header(device_key))

    device.refresh_from_db()
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).last_used_at is not None
    assert device.last_seen_at is None


def test_a_users_post_for_the_device_counts_as_it_reporting(api, device, alice):
    api.post("/api/event", {**EVENT, "deviceId": "esp32-01"}, format="json", **bearer(alice))

    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_within_a_minute_nothing_is_written_again(api, device, device_key):
    api.post("/api/event", EVENT, format="json", **key_header(device_key))
    first = Device.objects.get(pk=device.pk).last_seen_at

    api.post("/api/event", {**EVENT, "state": "OFF"}, format="json", **key_header(device_key))

    assert Device.objects.get(pk=device.pk).last_seen_at == first


def test_each_is_written_once_a_minute_at_most(device, device_key, django_assert_num_queries):
    key = DeviceAPIKey.objects.get(prefix=device_key[:8])
    now = datetime.now(UTC)

    with django_assert_num_queries(2):
        key_note_used(key=key, now=now)
        device_note_seen(device=device, now=now)
    with django_assert_num_queries(0):
        key_note_used(key=key, now=now + timedelta(seconds=30))
        device_note_seen(device=device, now=now + timedelta(seconds=30))
