"""Retention: raw events past the window go, and no summary or current state is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Tenant
from events import errors
from events.buckets import Period
from events.models import Channel, Event, Rollup
from events.selectors import rollups_window
from events.serializers import Reading
from events.services import event_ingest
from events.services.purge import events_purge
from events.services.rollup import rollup_run
from telemetry.errors import BadInput
from testsupport import key_header


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.PURGE_GRACE_SECONDS = 0


def post(device, ts, channel="pump", state=None, value=None):
    event_ingest(
        device=device,
        reading=Reading(channel, ts, state=state, value=value),
        received_at=datetime.now(UTC),
    )


def test_a_valve_left_in_mode_2_for_70_days_keeps_its_state_and_its_days(device):
    now = datetime.now(UTC)
    post(device, now - timedelta(days=70), channel="valve", state="2")
    rollup_run()

    events_purge()

    assert Event.objects.count() == 0
    assert Channel.objects.get(device=device, name="valve").last_state == "2"
    days = rollups_window(
        device=device, period=Period.DAY, start=now - timedelta(days=70), end=now,
        channel=None, limit=5000, now=now,
    )  # fmt: skip
    full_days = days[1:-1]  # the first and the last (today) are partial
    assert len(full_days) == 69
    assert all(day["state_seconds"] == {"2": day["bucket_seconds"]} for day in full_days)


def test_day_history_over_the_purged_period_is_unchanged(api, device, device_key):
    start = (datetime.now(UTC) - timedelta(days=66)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for day in range(8):
        base = start + timedelta(days=day)
        post(device, base + timedelta(hours=8), state="ON")
        post(device, base + timedelta(hours=9, minutes=day), state="OFF")
        for hour, value in [(6, 20.0 + day), (14, 27.5), (22, 21.25)]:
            post(device, base + timedelta(hours=hour), channel="temperature", value=value)
    rollup_run()
    params = {
        "resolution": "day",
        "from": int(start.timestamp() * 1000),
        "to": int((start + timedelta(days=8)).timestamp() * 1000),
    }
    before = api.get("/api/history", params, **key_header(device_key)).json()["items"]

    deleted = events_purge().tenants[0].events

    after = api.get("/api/history", params, **key_header(device_key)).json()["items"]
    assert deleted > 0
    assert len(before) == 16
    assert after == before


def test_it_rolls_up_what_arrived_before_deleting_it(device):
    old = datetime.now(UTC) - timedelta(days=65)
    post(device, old, state="ON")  # no rollup has run yet

    events_purge()

    assert Event.objects.count() == 0
    assert Rollup.objects.filter(device=device, last_state="ON").count() == 2


def test_it_deletes_in_bounded_batches_oldest_first(device):
    old = datetime.now(UTC) - timedelta(days=65)
    for minute in range(5):
        post(device, old + timedelta(minutes=minute), channel="temperature", value=minute)
    batches = []

    events_purge(batch_size=2, progress=batches.append)

    assert batches == [2, 2, 1]
    assert Event.objects.count() == 0


def test_it_keeps_events_inside_the_window(device):
    now = datetime.now(UTC)
    post(device, now - timedelta(days=65), state="ON")
    post(device, now - timedelta(days=10), state="OFF")

    [result] = events_purge().tenants

    assert result.events == 1
    assert list(Event.objects.values_list("state", flat=True)) == ["OFF"]


def test_the_cutoff_is_a_local_day_boundary_of_each_tenants_window(device, tenant):
    tenant.time_zone, tenant.raw_retention_days = "Europe/Madrid", 30
    tenant.save()
    now = datetime(2026, 7, 15, 12, tzinfo=UTC)

    [result] = events_purge(now=now, dry_run=True).tenants

    assert result.cutoff == datetime(2026, 6, 14, 22, tzinfo=UTC)  # 2026-06-15 00:00 +02:00


def test_a_dry_run_counts_and_changes_nothing(device):
    post(device, datetime.now(UTC) - timedelta(days=65), state="ON")

    [result] = events_purge(dry_run=True).tenants

    assert result.events == 1
    assert Event.objects.count() == 1
    assert Tenant.objects.get().raw_floor is None


def test_after_a_purge_ingest_refuses_events_older_than_the_floor(device):
    events_purge()
    floor = Tenant.objects.get().raw_floor
    device.tenant.refresh_from_db()

    with pytest.raises(BadInput, match="older than this tenant's raw retention"):
        post(device, floor - timedelta(seconds=1), state="ON")
    assert Event.objects.count() == 0
    assert errors.TS_BEFORE_RETENTION.startswith("ts is older")


def test_the_statement_itself_refuses_when_the_floor_rose_since_the_request_began(device):
    stale = device.tenant.raw_floor  # None: loaded before the purge
    events_purge()
    floor = Tenant.objects.get().raw_floor
    assert device.tenant.raw_floor == stale

    with pytest.raises(BadInput):
        post(device, floor - timedelta(days=1), state="ON")
    assert Event.objects.count() == 0
