"""GET /api/history?resolution=raw|hour|day|auto, and the carried-in state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events import errors
from events.serializers import Reading, to_epoch_ms
from events.services import event_ingest
from events.services.purge import events_purge
from events.services.rollup import rollup_run
from testsupport import bearer, key_header

T = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)
DAY_MS = to_epoch_ms(datetime(2026, 1, 10, tzinfo=UTC))


def post(device, ts, channel="pump", state=None, value=None):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))


def history(api, key, **params):
    return api.get("/api/history", params, **key_header(key)).json()


@pytest.fixture
def pump_run(device):
    post(device, T, state="ON")
    post(device, T + timedelta(minutes=80), state="OFF")
    post(device, T, channel="temperature", value=21.5)
    rollup_run()
    return device


def test_hour_items_carry_the_bucket_fields(api, pump_run, device_key):
    answer = history(
        api,
        device_key,
        resolution="hour",
        channel="pump",
        **{"from": DAY_MS + 9 * 3600_000, "to": DAY_MS + 12 * 3600_000},
    )

    assert answer["resolution"] == "hour"
    assert answer["items"][0] == {
        "ts": DAY_MS + 9 * 3600_000,
        "channel": "pump",
        "bucket_seconds": 3600,
        "count": 1,
        "state_seconds": {"ON": 600},
        "known_seconds": 600,
        "changes": 1,
        "last_state": "ON",
    }
    assert [item["state_seconds"] for item in answer["items"][1:]] == [
        {"ON": 3600},
        {"OFF": 3000, "ON": 600},
    ]
    assert "before" not in answer


def test_day_items_name_their_date_and_zone(api, pump_run, device_key):
    answer = history(
        api, device_key, resolution="day", **{"from": DAY_MS, "to": DAY_MS + 86400_000}
    )

    pump, temperature = answer["items"]
    assert (pump["date"], pump["time_zone"], pump["bucket_seconds"]) == ("2026-01-10", "UTC", 86400)
    assert pump["state_seconds"] == {"ON": 4800, "OFF": 46200}
    assert {k: temperature[k] for k in ("min", "max", "sum", "mean", "twa", "count")} == {
        "min": 21.5, "max": 21.5, "sum": 21.5, "mean": 21.5, "twa": 21.5, "count": 1,
    }  # fmt: skip


def test_raw_answers_give_the_state_carried_in(api, device, device_key):
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    post(device, two_hours_ago, state="ON")

    answer = history(api, device_key, range="1h")

    assert answer["items"] == []
    assert answer["before"] == [
        {
            "ts": to_epoch_ms(
                two_hours_ago.replace(microsecond=two_hours_ago.microsecond // 1000 * 1000)
            ),
            "channel": "pump",
            "state": "ON",
        }
    ]


def test_limit_reaches_5000_only_with_a_resolution(api, device, device_key):
    for minute in range(600):
        post(device, T + timedelta(minutes=minute), channel="temperature", value=minute)

    legacy = history(api, device_key, limit=5000, **{"from": DAY_MS})
    explicit = history(api, device_key, limit=5000, resolution="raw", **{"from": DAY_MS})

    assert (legacy["count"], explicit["count"]) == (500, 600)


def test_auto_picks_raw_when_the_events_fit(api, pump_run, device_key):
    answer = history(
        api, device_key, resolution="auto", limit=10, **{"from": DAY_MS, "to": DAY_MS + 86400_000}
    )

    assert answer["resolution"] == "raw"
    assert answer["count"] == 3


def test_auto_picks_hours_then_days_as_the_range_grows(api, device, device_key):
    for minute in range(180):
        post(device, T + timedelta(minutes=minute), channel="temperature", value=minute)
    post(device, T, state="ON")
    rollup_run()
    start = to_epoch_ms(T)

    def pick(hours):
        window = {"from": start, "to": start + int(hours * 3600_000)}
        return history(api, device_key, resolution="auto", limit=50, **window)["resolution"]

    assert (pick(0.5), pick(3), pick(240)) == ("raw", "hour", "day")


def test_auto_shows_raw_events_before_the_first_rollup_run(api, device, device_key):
    for minute in range(180):
        post(device, T + timedelta(minutes=minute), channel="temperature", value=minute)
    window = {"from": to_epoch_ms(T), "to": to_epoch_ms(T + timedelta(hours=3))}

    answer = history(api, device_key, resolution="auto", limit=50, **window)

    assert answer["resolution"] == "raw"
    assert [item["value"] for item in answer["items"]] == list(range(50))


def test_auto_uses_rollups_where_raw_events_were_purged(api, device, device_key, settings):
    settings.PURGE_GRACE_SECONDS = 0
    old = datetime.now(UTC) - timedelta(days=65)
    post(device, old, state="ON")
    events_purge()

    answer = history(
        api,
        device_key,
        resolution="auto",
        limit=5000,
        **{
            "from": to_epoch_ms(old - timedelta(hours=1)),
            "to": to_epoch_ms(old + timedelta(hours=2)),
        },
    )

    assert answer["resolution"] == "hour"
    assert answer["items"][0]["count"] == 1


def test_an_unknown_resolution_is_400(api, device, device_key):
    response = api.get("/api/history", {"resolution": "minute"}, **key_header(device_key))

    assert response.status_code == 400
    assert response.json()["error"] == errors.RESOLUTION_INVALID


def test_rollups_of_another_tenants_device_are_not_found(api, pump_run, charlie, other_device):
    answer = api.get(
        "/api/history",
        {"deviceId": "esp32-01", "resolution": "day", "from": DAY_MS},
        **bearer(charlie),
    ).json()

    assert answer["items"] == []


def test_day_history_makes_the_same_queries_however_many_days_and_channels(
    api, device, device_key, django_assert_num_queries
):
    for day in range(40):
        post(device, T - timedelta(days=day), state="ON" if day % 2 else "OFF")
        post(device, T - timedelta(days=day), channel="temperature", value=day)
    rollup_run()
    window = {"from": DAY_MS - 60 * 86400_000, "to": DAY_MS + 86400_000}

    # the key, its use noted, the buckets, and each channel's state before them
    with django_assert_num_queries(4):
        answer = history(api, device_key, resolution="day", limit=5000, **window)

    assert answer["count"] == 80
