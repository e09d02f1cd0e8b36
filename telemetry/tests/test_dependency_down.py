"""A dependency briefly unavailable answers 503 with Retry-After (JSON on the API, HTML on
pages), never 500."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from devices.models import DeviceAPIKey
from events.models import Event
from telemetry.handlers import CACHE_DOWN, DATABASE_BUSY
from testsupport import key_header

BODY = {"channel": "pump", "state": "ON"}


def test_a_down_redis_answers_503_and_stores_nothing(api, device, device_key, redis_down):
    response = api.post("/api/event", BODY, format="json", **key_header(device_key))

    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": CACHE_DOWN}
    assert response["Retry-After"] == "5"
    assert not Event.objects.exists()


def test_a_page_that_touches_a_down_redis_answers_503_html(
    ada_client, device, device_key, redis_down, settings
):
    settings.KEY_CACHE_SECONDS = 60  # revoking drops the key's cache entry
    url = f"/manage/devices/esp32-01/keys/{device_key[:8]}/revoke/"

    response = ada_client.post(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert CACHE_DOWN in response.content.decode()
    # Not revoked while its cached copy could not be dropped (it would keep working).
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is None


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_a_locked_sqlite_answers_503_and_stores_nothing(api, device, device_key):
    other = sqlite3.connect(connection.settings_dict["NAME"])
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 100")
    try:
        response = api.post("/api/event", BODY, format="json", **key_header(device_key))
    finally:
        other.rollback()
        other.close()
        connection.close()

    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": DATABASE_BUSY}
    assert response["Retry-After"] == "1"
    assert not Event.objects.exists()
