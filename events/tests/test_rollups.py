"""Hourly and daily rollups: exact seconds, counts and boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.buckets import Period
from events.models import Rollup
from events.selectors import rollups_window
from events.serializers import Reading
from events.services import event_ingest
from events.services.rollup import rollup_run
from testsupport import make_device, make_tenant

UTC_DAY = datetime(2026, 1, 10, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)  # "now" for these tests: long after the events
SPRING_NOW = datetime(2026, 4, 1, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: datetime = UTC_DAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def post(device, ts, channel="pump", state=None, value=None):
    event_ingest(
        device=device,
        reading=Reading(channel, ts, state=state, value=value),
        received_at=datetime.now(UTC),
    )


def window(device, period, start, end, now=LATER, channel=None, limit=5000):
    return rollups_window(
        device=device, period=period, start=start, end=end, channel=channel, limit=limit, now=now
    )


def by_hour(items):
    return {datetime.fromtimestamp(item["ts"] / 1000, UTC).hour: item for item in items}


def test_a_pump_run_over_three_hours_counts_exact_on_seconds(device):
    post(device, at(9, 50), state="ON")
    post(device, at(11, 10), state="OFF")
    rollup_run(now=LATER)

    hours = by_hour(window(device, Period.HOUR, at(9), at(12)))

    assert [hours[h]["state_seconds"].get("ON") for h in (9, 10, 11)] == [600, 3600, 600]
    assert [hours[h]["changes"] for h in (9, 10, 11)] == [1, 0, 1]
    assert hours[9]["known_seconds"] == 600  # nothing counted before the first event
    assert hours[11]["state_seconds"] == {"OFF": 3000, "ON": 600}
    assert [hours[h]["count"] for h in (9, 10, 11)] == [1, 0, 1]


def test_the_daily_bucket_sums_the_day(device):
    post(device, at(9, 50), state="ON")
    post(device, at(11, 10), state="OFF")
    rollup_run(now=LATER)

    [day] = window(device, Period.DAY, UTC_DAY, UTC_DAY + timedelta(days=1))

    assert day["date"] == "2026-01-10"
    assert day["bucket_seconds"] == 86400
    assert day["state_seconds"] == {"ON": 4800, "OFF": 46200}
    assert (day["changes"], day["count"], day["last_state"]) == (2, 2, "OFF")


def test_a_madrid_spring_forward_day_is_23_hours_long(db):
    madrid = ZoneInfo("Europe/Madrid")
    device = make_device(make_tenant("es", time_zone="Europe/Madrid"))
    post(device, datetime(2026, 3, 29, 0, 30, tzinfo=madrid), state="ON")
    post(device, datetime(2026, 3, 29, 4, 30, tzinfo=madrid), state="OFF")
    rollup_run(now=SPRING_NOW)

    day_start = datetime(2026, 3, 29, tzinfo=madrid)
    [day] = window(
        device,
        Period.DAY,
        day_start,
        day_start + timedelta(hours=23),
        now=SPRING_NOW,
    )

    assert day["date"] == "2026-03-29"
    assert day["bucket_seconds"] == 82800
    assert day["state_seconds"]["ON"] == 10800


def test_an_autumn_day_is_25_hours_and_its_hours_add_up(db):
    madrid = ZoneInfo("Europe/Madrid")
    device = make_device(make_tenant("es", time_zone="Europe/Madrid"))
    post(device, datetime(2026, 10, 24, 23, 0, tzinfo=madrid), state="ON")
    rollup_run(now=datetime(2026, 11, 1, tzinfo=UTC))
    start = datetime(2026, 10, 25, tzinfo=madrid)
    end = datetime(2026, 10, 26, tzinfo=madrid)

    [day] = window(device, Period.DAY, start, end - timedelta(seconds=1), now=end)
    hours = window(device, Period.HOUR, start, end, now=end)

    assert day["bucket_seconds"] == 90000
    assert day["state_seconds"] == {"ON": 90000}
    assert len(hours) == 25
    assert sum(item["state_seconds"]["ON"] for item in hours) == 90000


def test_hours_start_at_half_past_in_a_plus_0530_zone(db):
    device = make_device(make_tenant("in", time_zone="Asia/Kolkata"))
    post(device, datetime(2026, 1, 10, 9, 50, tzinfo=UTC), state="ON")
    rollup_run(now=LATER)

    row = Rollup.objects.get(device=device, period="hour")

    assert row.bucket_start == datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    assert row.state_ms == {"ON": 40 * 60 * 1000}


def test_numeric_buckets_have_sample_stats_and_a_time_weighted_mean(device):
    for ts, value in [(at(9), 20.0), (at(9, 30), 22.0), (at(10, 15), 30.0)]:
        post(device, ts, channel="temperature", value=value)
    rollup_run(now=at(11))

    hours = by_hour(window(device, Period.HOUR, at(9), at(11), now=at(11)))

    assert {k: hours[9][k] for k in ("count", "min", "max", "sum", "mean", "twa")} == {
        "count": 2, "min": 20.0, "max": 22.0, "sum": 42.0, "mean": 21.0, "twa": 21.0,
    }  # fmt: skip
    assert hours[10]["twa"] == pytest.approx((22 * 900 + 30 * 2700) / 3600)
    assert hours[10]["count"] == 1


def test_a_repeated_state_is_stored_but_not_a_change(device):
    for minute, state in [(0, "ON"), (10, "ON"), (20, "OFF"), (30, "ON")]:
        post(device, at(9, minute), state=state)
    rollup_run(now=at(10))

    [hour] = window(device, Period.HOUR, at(9), at(10), now=at(10))

    assert (hour["count"], hour["changes"]) == (4, 3)
    assert hour["state_seconds"] == {"ON": 3000, "OFF": 600}


def test_the_open_bucket_counts_up_to_now_on_read(device):
    post(device, at(9, 50), state="ON")
    rollup_run(now=at(9, 55))

    [early] = window(device, Period.HOUR, at(9), at(10), now=at(9, 55))
    [later] = window(device, Period.HOUR, at(9), at(10), now=at(10, 30))

    assert early["state_seconds"] == {"ON": 300}
    assert later["state_seconds"] == {"ON": 600}


def test_one_event_from_2001_materialises_no_years_of_rows(device):
    post(device, datetime(2001, 5, 1, 12, tzinfo=UTC), state="ON")
    rollup_run(now=LATER)

    assert Rollup.objects.filter(device=device).count() == 2  # its hour and its day
    [day] = window(device, Period.DAY, UTC_DAY, UTC_DAY + timedelta(days=1))
    assert day["state_seconds"] == {"ON": 86400}
    assert day["count"] == 0


def test_running_twice_gives_identical_rows(device):
    post(device, at(9, 50), state="ON")
    post(device, at(11, 10), state="OFF")
    rollup_run(now=LATER)
    first = list(Rollup.objects.order_by("pk").values())

    rollup_run(now=LATER)

    assert list(Rollup.objects.order_by("pk").values()) == first


ITEM_KEYS = ["ts", "channel", "bucket_seconds", "count"]
NUMERIC_KEYS = ["min", "max", "sum", "mean", "twa", "last_value"]
STATE_KEYS = ["state_seconds", "known_seconds", "changes", "last_state"]


def test_hours_without_events_carry_the_last_value_through(device):
    post(device, at(9, 30), channel="temperature", value=20.5)
    rollup_run(now=LATER)

    stored, *carried = window(device, Period.HOUR, at(9), at(11, 30))

    assert stored["count"] == 1
    assert carried == [
        {
            "ts": int(at(hour).timestamp() * 1000), "channel": "temperature",
            "bucket_seconds": 3600, "count": 0, "min": None, "max": None, "sum": None,
            "mean": None, "twa": 20.5, "last_value": 20.5,
        }
        for hour in (10, 11)
    ]  # fmt: skip
    assert [list(item) for item in (stored, *carried)] == [ITEM_KEYS + NUMERIC_KEYS] * 3


def test_a_day_without_events_holds_the_last_state_all_day_in_the_tenants_zone(db):
    madrid = ZoneInfo("Europe/Madrid")
    device = make_device(make_tenant("es", time_zone="Europe/Madrid"))
    post(device, datetime(2026, 3, 27, 22, tzinfo=madrid), state="ON")
    rollup_run(now=SPRING_NOW)
    day_start = datetime(2026, 3, 29, tzinfo=madrid)  # 23 hours: clocks go forward

    [day] = window(device, Period.DAY, day_start, day_start + timedelta(hours=1), now=SPRING_NOW)

    assert day == {
        "ts": int(day_start.timestamp() * 1000), "channel": "pump", "bucket_seconds": 82800,
        "count": 0, "date": "2026-03-29", "time_zone": "Europe/Madrid",
        "state_seconds": {"ON": 82800}, "known_seconds": 82800, "changes": 0, "last_state": "ON",
    }  # fmt: skip
    assert list(day) == [*ITEM_KEYS, "date", "time_zone", *STATE_KEYS]


def test_the_open_numeric_bucket_carries_its_last_value_on_to_now(device):
    post(device, at(9), channel="temperature", value=20.0)
    post(device, at(9, 30), channel="temperature", value=23.0)
    rollup_run(now=at(9, 45))

    [early] = window(device, Period.HOUR, at(9), at(10), now=at(9, 45))
    [later] = window(device, Period.HOUR, at(9), at(10), now=at(10, 30))

    assert early["twa"] == pytest.approx((20 * 30 + 23 * 15) / 45)
    assert later["twa"] == pytest.approx((20 * 30 + 23 * 30) / 60)
    assert {k: later[k] for k in ("count", "min", "max", "sum", "mean", "last_value")} == {
        "count": 2, "min": 20.0, "max": 23.0, "sum": 43.0, "mean": 21.5, "last_value": 23.0,
    }  # fmt: skip
