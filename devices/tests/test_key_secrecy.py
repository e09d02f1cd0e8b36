"""A device key is shown once: never stored in plain text, never written to a log."""

from __future__ import annotations

import hashlib
import logging

from django.db import connection

from devices.models import DeviceAPIKey
from testsupport import key_header


def test_the_database_holds_only_the_prefix_and_the_sha256_digest(device, device_key):
    stored = DeviceAPIKey.objects.get(device=device)

    assert stored.prefix == device_key[:8]
    assert stored.digest == hashlib.sha256(device_key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {DeviceAPIKey._meta.db_table}")  # noqa: S608
        assert all(device_key not in str(column) for row in cursor.fetchall() for column in row)


def test_requests_with_right_and_wrong_keys_log_no_key(api, device, device_key, caplog):
    wrong = device_key[:8] + "x" * 32
    with caplog.at_level(logging.DEBUG):
        api.post("/api/event", {"channel": "pump", "state": "ON"}, format="json",
                 **key_header(device_key))  # fmt: skip
        api.get("/api/history", **key_header(wrong))
        api.post("/api/event", {"channel": "pump", "state": "ON"}, format="json",
                 **key_header(wrong))  # fmt: skip

    assert "Unauthorized: /api/history" in caplog.text  # the requests were logged
    assert device_key not in caplog.text
    assert wrong not in caplog.text
    assert device_key[8:] not in caplog.text
