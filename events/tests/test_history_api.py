"""GET /api/history: legacy parameters and shape, plus channel/from/to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events import errors
from events.serializers import Reading, to_epoch_ms
from events.services import event_ingest
from testsupport import bearer, key_header

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
T0_MS = to_epoch_ms(T0)


def store(device, ts, channel="valve1", state=None, value=None):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))


def history(api, headers, **params):
    return api.get("/api/history", params, **headers)


@pytest.fixture
def day_of_events(device):
    """valve1 ON at T0, pump ON and temperature at T0+1m, valve2 OFF at T0+2m."""
    store(device, T0, state="ON")
    store(device, T0 + timedelta(minutes=1), channel="pump", state="ON")
    store(device, T0 + timedelta(minutes=1), channel="temperature", value=24.5)
    store(device, T0 + timedelta(minutes=2), channel="valve2", state="OFF")
    return device


def test_it_answers_the_legacy_shape_oldest_first(api, day_of_events, device_key):
    window = {"from": T0_MS, "to": T0_MS + 3_600_000}
    response = history(api, key_header(device_key), deviceId="esp32-01", **window)

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "deviceId": "esp32-01",
        "range": "custom",
        "sinceTs": T0_MS,
        "untilTs": T0_MS + 3_600_000,
        "resolution": "raw",
        "count": 4,
        "items": [
            {"ts": T0_MS, "channel": "valve1", "state": "ON", "valve_id": 1},
            {"ts": T0_MS + 60_000, "channel": "pump", "state": "ON"},
            {"ts": T0_MS + 60_000, "channel": "temperature", "value": 24.5},
            {"ts": T0_MS + 120_000, "channel": "valve2", "state": "OFF", "valve_id": 2},
        ],
        "before": [],
    }


def test_limit_returns_the_oldest_n(api, day_of_events, device_key):
    response = history(api, key_header(device_key), **{"from": T0_MS, "limit": 2})

    assert [item["ts"] for item in response.json()["items"]] == [T0_MS, T0_MS + 60_000]
    assert response.json()["count"] == 2


def test_channel_filters_the_items(api, day_of_events, device_key):
    response = history(api, key_header(device_key), channel="pump", **{"from": T0_MS})

    assert response.json()["items"] == [{"ts": T0_MS + 60_000, "channel": "pump", "state": "ON"}]


def test_from_is_inclusive_and_to_exclusive(api, day_of_events, device_key):
    params = {"from": T0_MS + 60_000, "to": T0_MS + 120_000}
    response = history(api, key_header(device_key), **params)

    assert [item["channel"] for item in response.json()["items"]] == ["pump", "temperature"]


def test_iso_times_with_an_offset_are_accepted(api, day_of_events, device_key):
    params = {"from": "2026-01-10T10:01:00+01:00", "to": "2026-01-10T09:02:00Z"}
    response = history(api, key_header(device_key), **params)

    assert response.json()["sinceTs"] == T0_MS + 60_000
    assert response.json()["count"] == 2


def test_to_alone_covers_the_range_before_it(api, day_of_events, device_key):
    params = {"to": T0_MS + 120_000, "range": "90s"}  # unparseable: 24h
    response = history(api, key_header(device_key), **params)

    assert response.json()["sinceTs"] == T0_MS + 120_000 - 86_400_000
    assert response.json()["range"] == "24h"
    assert response.json()["count"] == 3


@pytest.mark.parametrize("window", [{"from": T0_MS}, {"from": T0_MS, "to": T0_MS + 60_000}])
def test_from_makes_the_range_custom_whatever_range_says(api, day_of_events, device_key, window):
    response = history(api, key_header(device_key), range="7d", **window)

    assert response.json()["range"] == "custom"
    assert response.json()["sinceTs"] == T0_MS


def test_range_counts_back_from_now(api, device, device_key):
    now = datetime.now(UTC)
    store(device, now - timedelta(hours=3), state="ON")
    store(device, now - timedelta(minutes=30), state="OFF")

    response = history(api, key_header(device_key), range="1h")

    assert [item["state"] for item in response.json()["items"]] == ["OFF"]
    assert abs(response.json()["sinceTs"] - to_epoch_ms(now - timedelta(hours=1))) < 5_000


@pytest.mark.parametrize(
    ("raw", "label", "seconds"),
    [
        ("5m", "5m", 300),
        ("2h", "2h", 7200),
        ("7d", "7d", 604800),
        ("all", "all", 365 * 86400),
        ("45d", "30d", 30 * 86400),
        ("0m", "1m", 60),
        ("1000000000000d", "30d", 30 * 86400),
        ("1000000000m", "30d", 30 * 86400),
        ("9" * 5000 + "h", "30d", 30 * 86400),
        ("0000000000005m", "5m", 300),
        ("banana", "24h", 86400),
        ("", "24h", 86400),
    ],
)
def test_range_is_lenient_and_clamped(api, device, device_key, raw, label, seconds):
    params = {"range": raw, "to": T0_MS}
    response = history(api, key_header(device_key), **params)

    assert response.json()["range"] == label
    assert response.json()["sinceTs"] == T0_MS - seconds * 1000


@pytest.mark.parametrize(("raw", "count"), [("abc", 4), ("0", 1), ("-3", 1), ("3", 3), ("1e9", 4)])
def test_limit_is_lenient_and_clamped(api, day_of_events, device_key, raw, count):
    response = history(api, key_header(device_key), limit=raw, **{"from": T0_MS})

    assert response.json()["count"] == count


def test_limit_is_at_most_500(api, device, device_key):
    for second in range(501):
        store(device, T0 + timedelta(seconds=second), channel="temperature", value=second)

    response = history(api, key_header(device_key), limit=10000, **{"from": T0_MS})

    assert response.json()["count"] == 500
    assert response.json()["items"][-1]["value"] == 499


@pytest.mark.parametrize(
    ("params", "gist"),
    [
        ({"from": "yesterday"}, "from must be epoch milliseconds"),
        ({"to": "2026-01-10T09:00:00"}, "to must be epoch milliseconds"),
        ({"from": "9" * 30}, "from must be epoch milliseconds"),
        ({"from": T0_MS, "to": T0_MS}, errors.FROM_AFTER_TO),
        ({"channel": "bad/channel"}, errors.CHANNEL_INVALID),
        ({"deviceId": "x" * 65}, "deviceId is longer"),
    ],
)
def test_strict_parameters_answer_400(api, device, device_key, params, gist):
    response = history(api, key_header(device_key), **params)

    assert response.status_code == 400
    assert gist in response.json()["error"]


def test_history_needs_credentials(api, device):
    response = history(api, {}, deviceId="esp32-01")

    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_a_viewer_may_read(api, day_of_events, bob):
    response = history(api, bearer(bob), deviceId="esp32-01", **{"from": T0_MS})

    assert response.json()["count"] == 4


def test_a_user_must_name_the_device(api, device, alice):
    response = history(api, bearer(alice))

    assert response.status_code == 400
    assert "deviceId is required" in response.json()["error"]


def test_post_is_405(api, device_key):
    response = api.post("/api/history", {}, format="json", **key_header(device_key))

    assert response.status_code == 405


def test_history_makes_a_bounded_number_of_queries(
    api, day_of_events, device_key, django_assert_max_num_queries
):
    # key lookup, the minute's key and device touch, events, carried-in state
    with django_assert_max_num_queries(5):
        response = history(api, key_header(device_key), **{"from": T0_MS})
    assert response.json()["count"] == 4
