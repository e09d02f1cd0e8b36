"""Key lookups cached in Redis: most requests skip the database, and revoking a key
(or changing its device or tenant) takes effect on the very next request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from devices import errors
from devices.services import key_revoke
from events.models import Event
from events.tests.test_celery_worker import database_url_under_test
from testsupport import key_header

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis

READING = {"channel": "temperature", "value": 21.5}


@pytest.fixture(autouse=True)
def key_cache(settings):
    settings.KEY_CACHE_SECONDS = 60


def post(api, key, ts):
    return api.post("/api/event", {**READING, "ts": ts}, format="json", **key_header(key))


def test_a_known_key_is_read_from_the_cache(api, device, device_key, django_assert_num_queries):
    assert post(api, device_key, 1767225600000).json()["result"] == "stored"
    # Only the insert: one statement on PostgreSQL; on SQLite the current state apart
    # (a savepoint inside the test's transaction).
    expected = 1 if connection.vendor == "postgresql" else 4

    with django_assert_num_queries(expected):
        assert post(api, device_key, 1767225600001).json()["result"] == "stored"


def test_revoking_fails_the_next_request(api, device, device_key):
    post(api, device_key, 1767225600000)

    key_revoke(prefix=device_key[:8])
    response = post(api, device_key, 1767225600001)

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": errors.KEY_INVALID}
    assert Event.objects.filter(device=device).count() == 1


@pytest.mark.django_db(transaction=True)
def test_revoking_from_another_process_fails_the_next_request(api, device, device_key):
    post(api, device_key, 1767225600000)

    env = {**os.environ, "DATABASE_URL": database_url_under_test()}
    subprocess.run(
        [sys.executable, "manage.py", "revoke_key", device_key[:8]],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    response = post(api, device_key, 1767225600001)

    assert response.status_code == 401


def test_deactivating_the_tenant_fails_the_next_request(api, device, device_key, tenant):
    post(api, device_key, 1767225600000)

    tenant.is_active = False
    tenant.save()
    response = post(api, device_key, 1767225600001)

    assert response.status_code == 401


def test_deleting_the_device_fails_the_next_request(api, device, device_key):
    post(api, device_key, 1767225600000)

    device.delete()
    response = post(api, device_key, 1767225600001)

    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_revoking_drops_an_entry_the_previous_version_cached_too(device, device_key):
    old_name = f"device-key:{device_key[:8]}"  # a process still running that code
    cache.set(old_name, "an entry")

    key_revoke(prefix=device_key[:8])

    assert cache.get(old_name) is None
