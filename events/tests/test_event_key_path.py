"""A device's POST /api/event skips DRF's request machinery; every answer is the one DRF's
own path gives, byte for byte, headers and their order included."""

from __future__ import annotations

import pytest

from accounts.models import Tenant
from devices.services import key_revoke
from events.api import EventView
from events.models import Event
from telemetry.api import JsonApiView

LEGACY = '{"deviceId": "esp32-01", "state": "ON", "ts": 1704067200000, "valveId": 1}'
READING = '{"channel": "temperature", "value": 21.5, "ts": 1704067200000}'


def wrong_secret(key: str) -> str:
    return key[:8] + ("a" if key[8] != "a" else "b") + key[9:]


# Each scenario: posts of (body, Content-Type, a change to the key or None).
SCENARIOS = {
    "stored, duplicate, conflict": [
        (LEGACY, "application/json", None),
        (LEGACY, "application/json", None),
        (LEGACY.replace('"ON"', '"OFF"'), "application/json", None),
    ],
    "no device, no Content-Type": [(READING.replace("21.5", "7"), "", None)],
    "a channel of the other kind": [
        (READING, "application/json", None),
        (READING.replace('"value": 21.5', '"state": "ON"'), "application/json", None),
    ],
    "bad input": [
        ("not json", "application/json", None),
        ('{"state": "maybe"}', "application/json", None),
        ("", "application/json", None),
        ("{}", "text/plain", None),
        ("[" * 70_000, "application/json", None),
    ],
    "another device": [(LEGACY.replace("esp32-01", "esp32-02"), "application/json", None)],
    "a wrong key": [
        (LEGACY, "application/json", wrong_secret),
        ("not json", "application/json", wrong_secret),
        (LEGACY, "application/json", lambda key: key[:20]),
    ],
    "a flood": [
        (READING.replace("1704067200000", str(1704067200000 + n)), "application/json", None)
        for n in range(7)
    ],
}


def send(api, key: str, body: str, content_type: str, change):
    key = change(key) if change else key
    return api.generic("POST", "/api/event", body, content_type=content_type, HTTP_X_API_KEY=key)


def answer(response) -> tuple:
    return response.status_code, list(response.items()), response.content


@pytest.fixture
def two_alike(tenant, other_tenant, device, other_device):
    """Two devices esp32-01 in two tenants, at a one-second rate (the same Reset for both)."""
    Tenant.objects.filter(pk__in=[tenant.pk, other_tenant.pk]).update(write_rate="5/s")


@pytest.fixture
def calls(monkeypatch):
    """Which of EventView's handlers ran."""
    ran: list[str] = []
    for name in ("post", "post_with_key"):
        handler = getattr(EventView, name)

        def spy(self, request, handler=handler, name=name):
            ran.append(name)
            return handler(self, request)

        monkeypatch.setattr(EventView, name, spy)
    return ran


def through_drf(monkeypatch) -> None:
    monkeypatch.setattr(JsonApiView, "answers_plain_json", lambda self, request: False)


@pytest.mark.usefixtures("two_alike", "frozen_rate_window")
@pytest.mark.parametrize("posts", SCENARIOS.values(), ids=SCENARIOS)
def test_a_devices_post_answers_as_drfs_own_path(
    api, monkeypatch, calls, device_key, other_device_key, posts
):
    direct = [answer(send(api, device_key, *post)) for post in posts]
    assert "post" not in calls

    through_drf(monkeypatch)
    calls.clear()
    reference = [answer(send(api, other_device_key, *post)) for post in posts]

    assert "post_with_key" not in calls
    assert direct == reference


@pytest.mark.usefixtures("two_alike")
def test_a_revoked_key_answers_as_on_drfs_own_path(api, monkeypatch, device_key, other_device_key):
    for key in (device_key, other_device_key):
        send(api, key, LEGACY, "application/json", None)
        key_revoke(prefix=key[:8])
    direct = answer(send(api, device_key, LEGACY, "application/json", None))

    through_drf(monkeypatch)
    reference = answer(send(api, other_device_key, LEGACY, "application/json", None))

    assert direct[0] == 401
    assert direct == reference


@pytest.mark.parametrize("accept", ["*/*", "application/json", None])
def test_plain_accept_headers_take_the_direct_path(api, calls, device, device_key, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api.generic("POST", "/api/event", READING, content_type="application/json",
                           HTTP_X_API_KEY=device_key, **headers)  # fmt: skip

    assert response.status_code == 200
    assert calls == ["post_with_key"]


def test_an_accept_header_with_parameters_is_answered_by_drf(api, calls, device, device_key):
    accept = "application/json; indent=2"
    response = api.generic("POST", "/api/event", READING, content_type="application/json",
                           HTTP_X_API_KEY=device_key, HTTP_ACCEPT=accept)  # fmt: skip

    assert calls == ["post"]
    assert response.content.startswith(b'{\n  "ok": true')


@pytest.mark.parametrize("accept", ["text/html", "text/csv", "application/xml", "nonsense"])
def test_an_accept_header_naming_no_json_is_answered_json_anyway(
    api, calls, device, device_key, accept
):
    # The legacy Worker ignored Accept: a device's post is stored and answered as ever.
    response = api.generic("POST", "/api/event", READING, content_type="application/json",
                           HTTP_X_API_KEY=device_key, HTTP_ACCEPT=accept)  # fmt: skip

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["result"] == "stored"
    assert Event.objects.filter(device=device).count() == 1
