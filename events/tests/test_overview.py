"""devices_overview: each device's channels now and today's ON time, exact to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.selectors import devices_overview
from events.selectors.overview import on_seconds
from events.serializers import Reading
from events.services import event_ingest
from events.services.purge import events_purge
from testsupport import make_device

NOW = datetime(2026, 1, 10, 10, 0, tzinfo=UTC)


def post(device, ts, channel="pump", state=None, value=None, received_at=NOW):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=received_at)


def at(hours: float) -> datetime:
    return datetime(2026, 1, 10, tzinfo=UTC) + timedelta(hours=hours)


def test_on_time_counts_the_state_carried_in_from_yesterday(device):
    post(device, at(-2), state="ON")  # 22:00 yesterday
    post(device, at(1.5), state="OFF")
    post(device, at(9), state="ON")
    post(device, at(9.5), state="ON")  # a repeat changes nothing
    post(device, at(9), channel="temperature", value=21.5)

    (overview,) = devices_overview(tenant=device.tenant, now=NOW)

    channels = {channel.name: channel for channel in overview.channels}
    assert channels["pump"].on_seconds_today == 5400 + 3600
    assert channels["pump"].state == "ON"
    assert channels["temperature"].on_seconds_today is None
    assert channels["temperature"].value == 21.5


def test_today_is_the_tenants_local_day(device):
    device.tenant.time_zone = "Asia/Kolkata"  # +05:30: today began at 18:30 UTC yesterday
    device.tenant.save(update_fields=["time_zone"])
    post(device, at(-6), state="ON")

    (overview,) = devices_overview(tenant=device.tenant, now=NOW)

    assert overview.channels[0].on_seconds_today == 10 * 3600 + 5 * 3600 + 1800


def test_mode_channels_have_no_on_time(device):
    post(device, at(1), channel="valve", state="2")

    (overview,) = devices_overview(tenant=device.tenant, now=NOW)

    assert overview.channels[0].on_seconds_today is None
    assert overview.channels[0].state == "2"


def test_the_carried_in_state_survives_a_purge(device, settings):
    settings.PURGE_GRACE_SECONDS = 0
    post(device, NOW - timedelta(days=70), state="ON", received_at=NOW - timedelta(days=70))

    events_purge(now=NOW)
    (overview,) = devices_overview(tenant=device.tenant, now=NOW)

    assert overview.channels[0].on_seconds_today == 10 * 3600


def test_online_is_judged_against_the_expected_interval(tenant):
    quiet, chatty, _never = (make_device(tenant, name) for name in ("a-quiet", "b-chatty", "c-new"))
    type(quiet).objects.filter(pk=quiet.pk).update(last_seen_at=NOW - timedelta(minutes=7))
    type(chatty).objects.filter(pk=chatty.pk).update(last_seen_at=NOW - timedelta(minutes=5))

    overviews = devices_overview(tenant=tenant, now=NOW)

    assert [(o.device.device_id, o.is_online) for o in overviews] == [
        ("a-quiet", False),
        ("b-chatty", True),
        ("c-new", False),
    ]
    assert overviews[1].silent_since == NOW + timedelta(minutes=1)


def test_it_lists_only_the_tenants_devices_in_three_queries(
    tenant, device, other_device, django_assert_num_queries
):
    for name in ("esp32-02", "esp32-03"):
        extra = make_device(tenant, name)
        post(extra, at(1), state="ON")
    post(device, at(1), state="ON")
    post(other_device, at(1), state="ON")

    with django_assert_num_queries(3):
        overviews = devices_overview(tenant=tenant, now=NOW)

    assert [o.device.device_id for o in overviews] == ["esp32-01", "esp32-02", "esp32-03"]
    assert all(o.channels[0].on_seconds_today == 9 * 3600 for o in overviews)


@pytest.mark.parametrize(
    ("carried", "events", "expected"),
    [
        (None, [], 0),
        ("ON", [], 3600),
        (None, [(at(0.5), "ON")], 1800),
        ("OFF", [(at(0.25), "ON"), (at(0.5), "OFF"), (at(0.75), "ON")], 900 + 900),
    ],
)
def test_on_seconds(carried, events, expected):
    assert on_seconds(carried=carried, events=events, start=at(0), end=at(1)) == expected
