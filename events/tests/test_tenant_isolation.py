"""Two tenants each own an `esp32-01`: neither can read or write the other's."""

from __future__ import annotations

import pytest

from events.models import Event
from testsupport import bearer, key_header, make_device

TS = 1704067200000
LEGACY = {"deviceId": "esp32-01", "state": "ON", "ts": TS, "valveId": 1}


@pytest.fixture
def acme_only(tenant):
    """A device id that exists in acme only."""
    return make_device(tenant, "acme-pump")


def states(device):
    return list(Event.objects.filter(device=device).values_list("state", flat=True))


def test_a_key_writes_only_its_own_tenants_device(api, device, other_device, other_device_key):
    response = api.post("/api/event", LEGACY, format="json", **key_header(other_device_key))

    assert response.status_code == 200
    assert states(other_device) == ["ON"]
    assert states(device) == []


def test_a_user_writes_only_their_own_tenants_device(api, device, other_device, charlie):
    response = api.post("/api/event", LEGACY, format="json", **bearer(charlie))

    assert response.status_code == 200
    assert states(other_device) == ["ON"]
    assert states(device) == []


def test_a_user_reads_only_their_own_tenants_device(api, device, device_key, other_device, charlie):
    api.post("/api/event", LEGACY, format="json", **key_header(device_key))

    response = api.get("/api/history", {"deviceId": "esp32-01", "from": TS}, **bearer(charlie))

    assert response.status_code == 200
    assert response.json()["items"] == []


def test_a_key_reads_only_its_own_device(api, device, device_key, other_device, other_device_key):
    api.post("/api/event", LEGACY, format="json", **key_header(device_key))

    response = api.get("/api/history", {"from": TS}, **key_header(other_device_key))

    assert response.json()["count"] == 0


@pytest.mark.parametrize("method", ["read", "write"])
def test_another_tenants_device_answers_exactly_like_a_missing_one(
    api, acme_only, other_tenant, charlie, method
):
    def call(device_id):
        if method == "read":
            return api.get("/api/history", {"deviceId": device_id}, **bearer(charlie))
        body = {**LEGACY, "deviceId": device_id}
        return api.post("/api/event", body, format="json", **bearer(charlie))

    theirs, missing = call("acme-pump"), call("no-such-device")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content == b'{"ok":false,"error":"device not found"}'
    assert Event.objects.count() == 0


@pytest.mark.parametrize("device_id", ["acme-pump", "no-such-device"])
def test_a_key_naming_another_device_gets_403_without_a_lookup(
    api, acme_only, device_key, django_assert_max_num_queries, device_id
):
    body = {**LEGACY, "deviceId": device_id}
    with django_assert_max_num_queries(3):  # key lookup and the key and device touch only
        response = api.post("/api/event", body, format="json", **key_header(device_key))

    assert response.status_code == 403
    assert response.json() == {"ok": False, "error": "this API key belongs to another device"}
    assert Event.objects.count() == 0


def test_a_key_naming_another_device_cannot_read_it(api, acme_only, device_key):
    response = api.get("/api/history", {"deviceId": "acme-pump"}, **key_header(device_key))

    assert response.status_code == 403
