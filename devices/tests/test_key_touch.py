"""A key's last use and its device's last contact are noted at most once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.models import Device, DeviceAPIKey
from devices.services import key_note_used
from testsupport import bearer, key_header


def test_the_first_request_notes_the_key_and_the_device(api, device, device_key):
    before = datetime.now(UTC)

    api.get("/api/history", **key_header(device_key))

    key = DeviceAPIKey.objects.get(prefix=device_key[:8])
    device.refresh_from_db()
    assert key.last_used_at >= before
    assert device.last_seen_at == key.last_used_at


def test_within_a_minute_nothing_is_written_again(api, device, device_key):
    api.get("/api/history", **key_header(device_key))
    first = Device.objects.get(pk=device.pk).last_seen_at

    api.get("/api/history", **key_header(device_key))

    assert Device.objects.get(pk=device.pk).last_seen_at == first


def test_it_writes_once_a_minute_at_most(device, device_key, django_assert_num_queries):
    key = DeviceAPIKey.objects.select_related("device").get(prefix=device_key[:8])
    now = datetime.now(UTC)

    with django_assert_num_queries(2):
        key_note_used(key=key, now=now)
    with django_assert_num_queries(0):
        key_note_used(key=key, now=now + timedelta(seconds=30))


def test_a_users_write_does_not_count_as_the_device_reporting(api, device, alice):
    body = {"deviceId": "esp32-01", "channel": "pump", "state": "ON"}
    api.post("/api/event", body, format="json", **bearer(alice))

    device.refresh_from_db()
    assert device.last_seen_at is None
