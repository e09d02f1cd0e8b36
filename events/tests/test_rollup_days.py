"""Day rows summed from hour rows equal the day computed from the raw events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.buckets import Period, buckets_between
from events.models import Event, Rollup
from events.serializers import Reading
from events.services import event_ingest
from events.services.purge import events_purge
from events.services.rollup import rollup_run
from testsupport import make_device, make_tenant

MADRID = ZoneInfo("Europe/Madrid")
KOLKATA = ZoneInfo("Asia/Kolkata")
ONE_MS = timedelta(milliseconds=1)


def post(device, ts, state=None, value=None, channel="pump"):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))


@dataclass
class Expected:
    count: int
    changes: int
    state_ms: dict[str, int]
    known_ms: int
    min: float | None
    max: float | None
    sum: float | None
    twa: float | None
    last_ts: datetime
    last_state: str | None
    last_value: float | None
    covered_until: datetime


def from_raw(events: list[Event], start: datetime, end: datetime, now: datetime) -> Expected:
    """The bucket [start, end) straight from the time rule: each event holds until the next."""
    inside = [e for e in events if start <= e.ts < end]
    state_ms: dict[str, int] = {}
    known_ms, weighted = 0, 0.0
    for i, event in enumerate(events):
        following = events[i + 1].ts if i + 1 < len(events) else now
        ms = (min(following, now, end) - max(event.ts, start)) // ONE_MS
        if ms > 0:
            known_ms += ms
            if event.state is not None:
                state_ms[event.state] = state_ms.get(event.state, 0) + ms
            else:
                weighted += event.value * ms
    previous = {e.pk: events[i - 1].state if i else None for i, e in enumerate(events)}
    is_state = inside[-1].state is not None
    values = [e.value for e in inside]
    return Expected(
        count=len(inside),
        changes=sum(1 for e in inside if e.state != previous[e.pk]) if is_state else 0,
        state_ms=state_ms,
        known_ms=known_ms,
        min=None if is_state else min(values),
        max=None if is_state else max(values),
        sum=None if is_state else sum(values),
        twa=None if is_state or not known_ms else weighted / known_ms,
        last_ts=inside[-1].ts,
        last_state=inside[-1].state,
        last_value=inside[-1].value,
        covered_until=min(end, now),
    )


def stored(row: Rollup) -> Expected:
    return Expected(
        row.count, row.changes, row.state_ms, row.known_ms, row.min, row.max, row.sum, row.twa,
        row.last_ts, row.last_state, row.last_value, row.covered_until,
    )  # fmt: skip


def assert_days_match_raw(device, *, now: datetime, since: datetime, until: datetime) -> int:
    """Every local day in [since, until) with events has the row the raw events give."""
    zone = ZoneInfo(device.tenant.time_zone)
    checked = 0
    for channel in Event.objects.for_device(device).values_list("channel", flat=True).distinct():
        events = list(Event.objects.for_device(device).filter(channel=channel).order_by("ts"))
        rows = {
            row.bucket_start: row
            for row in Rollup.objects.for_device(device).filter(channel=channel, period="day")
        }
        for day in buckets_between(since, until, zone=zone, period=Period.DAY):
            if not any(day.start <= e.ts < day.end for e in events):
                assert day.start not in rows
                continue
            row = rows[day.start]
            assert (row.bucket_end, row.local_date) == (day.end, day.start.astimezone(zone).date())
            expected, got = from_raw(events, day.start, day.end, now), stored(row)
            # Sum(twa * known) / Sum(known) over the hours equals the raw ratio up to rounding.
            if expected.twa is not None:
                assert got.twa == pytest.approx(expected.twa, rel=1e-12)
                got.twa = expected.twa
            assert got == expected
            checked += 1
    return checked


def test_a_pump_on_from_nine_to_six_has_nine_hours_on_though_only_two_hours_have_rows(device):
    day = datetime(2026, 1, 10, tzinfo=UTC)
    post(device, day.replace(hour=9), state="ON")
    post(device, day.replace(hour=18), state="OFF")
    rollup_run(now=day + timedelta(days=2))

    row = Rollup.objects.get(device=device, period="day")

    assert Rollup.objects.filter(device=device, period="hour").count() == 2
    assert row.state_ms == {"ON": 9 * 3600_000, "OFF": 6 * 3600_000}
    assert (row.known_ms, row.count, row.changes) == (15 * 3600_000, 2, 2)


def test_a_day_carries_in_the_state_of_an_event_long_before(device):
    post(device, datetime(2001, 5, 1, 12, tzinfo=UTC), state="ON")
    post(device, datetime(2026, 1, 10, 6, tzinfo=UTC), state="OFF")
    now = datetime(2026, 1, 12, tzinfo=UTC)
    rollup_run(now=now)

    row = Rollup.objects.get(device=device, period="day", local_date=date(2026, 1, 10))

    assert row.state_ms == {"ON": 6 * 3600_000, "OFF": 18 * 3600_000}
    assert row.changes == 1
    assert assert_days_match_raw(device, now=now, since=datetime(2001, 5, 1, tzinfo=UTC), until=now)


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 3, 28), 24)]
)
def test_madrid_dst_days_match_the_raw_events(db, day, hours):
    device = make_device(make_tenant("es", time_zone="Europe/Madrid"))
    start = datetime(day.year, day.month, day.day, tzinfo=MADRID).astimezone(UTC)
    post(device, start - timedelta(hours=3), state="ON")
    for minutes, state in [(45, "OFF"), (130, "ON"), (200, "ON"), (1300, "OFF")]:
        post(device, start + timedelta(minutes=minutes), state=state)
    for minutes, value in [(10, 18.5), (140, 21.25), (1000, 19.0)]:
        post(device, start + timedelta(minutes=minutes), value=value, channel="temperature")
    now = start + timedelta(days=3)
    rollup_run(now=now)

    row = Rollup.objects.get(device=device, channel="pump", period="day", local_date=day)

    assert (row.bucket_end - row.bucket_start) == timedelta(hours=hours)
    assert row.known_ms == hours * 3600_000
    assert assert_days_match_raw(device, now=now, since=start - timedelta(days=1), until=now) == 3


def test_a_plus_0530_zone_matches_the_raw_events(db):
    device = make_device(make_tenant("in", time_zone="Asia/Kolkata"))
    start = datetime(2026, 1, 10, tzinfo=KOLKATA).astimezone(UTC)
    for minutes, state in [(-20, "ON"), (29, "OFF"), (31, "ON"), (600, "OFF"), (1439, "ON")]:
        post(device, start + timedelta(minutes=minutes), state=state)
    for minutes, value in [(15, 1.5), (95, 2.0), (1500, 3.25)]:
        post(device, start + timedelta(minutes=minutes), value=value, channel="temperature")
    now = start + timedelta(days=2, hours=3)
    rollup_run(now=now)

    days = Rollup.objects.filter(device=device, channel="pump", period="day")
    assert days.get(local_date=date(2026, 1, 10)).bucket_start == datetime(
        2026, 1, 9, 18, 30, tzinfo=UTC
    )
    assert assert_days_match_raw(device, now=now, since=start - timedelta(days=1), until=now) == 4


def test_a_channel_first_reporting_mid_day_counts_no_time_before(device):
    day = datetime(2026, 1, 10, tzinfo=UTC)
    post(device, day.replace(hour=13, minute=17), value=10.0, channel="temperature")
    post(device, day.replace(hour=15, minute=2), value=12.5, channel="temperature")
    now = day + timedelta(days=1)
    rollup_run(now=now)

    row = Rollup.objects.get(device=device, period="day")

    assert row.known_ms == (24 * 60 - (13 * 60 + 17)) * 60_000
    assert row.twa == pytest.approx((10.0 * 105 + 12.5 * (24 * 60 - 15 * 60 - 2)) / (24 * 60 - 797))
    assert assert_days_match_raw(device, now=now, since=day, until=now) == 1


def test_late_events_and_runs_through_an_open_day_match_the_raw_events(device):
    day = datetime(2026, 1, 10, tzinfo=UTC)
    post(device, day.replace(hour=2), state="ON")
    post(device, day.replace(hour=2, minute=30), value=5.0, channel="temperature")
    rollup_run(now=day.replace(hour=2, minute=40))  # hour 02 computed while open
    post(device, day.replace(hour=7, minute=5), state="OFF")
    post(device, day.replace(hour=7, minute=10), value=7.0, channel="temperature")
    rollup_run(now=day.replace(hour=7, minute=20))
    post(device, day.replace(hour=5, minute=55), state="OFF")  # late: between ON and OFF
    post(device, day.replace(hour=6, minute=15), state="ON")  # late
    post(device, day.replace(hour=4), value=6.0, channel="temperature")  # late
    now = day.replace(hour=9, minute=12)
    rollup_run(now=now)

    row = Rollup.objects.get(device=device, channel="pump", period="day")

    assert row.covered_until == now
    assert row.state_ms == {"ON": (235 + 50) * 60_000, "OFF": (20 + 127) * 60_000}
    assert row.changes == 4
    assert assert_days_match_raw(device, now=now, since=day, until=now) == 2


def test_days_without_events_get_no_row_and_the_next_day_carries_across_them(device):
    start = datetime(2026, 1, 10, tzinfo=UTC)
    post(device, start.replace(hour=20), state="ON")
    post(device, start + timedelta(days=4, hours=3), state="OFF")
    post(device, start.replace(hour=20), value=3.0, channel="temperature")
    post(device, start + timedelta(days=4, hours=3), value=4.0, channel="temperature")
    now = start + timedelta(days=6)
    rollup_run(now=now)

    assert Rollup.objects.filter(device=device, period="day").count() == 4
    assert assert_days_match_raw(device, now=now, since=start, until=now) == 4


def test_a_rebuild_from_a_later_since_matches_the_raw_events(device):
    from events.services.rollup import rollup_rebuild

    start = datetime(2026, 1, 10, tzinfo=UTC)
    post(device, start.replace(hour=20), state="ON")  # never rolled up before the rebuild
    post(device, start + timedelta(days=2, hours=3), state="OFF")
    post(device, start + timedelta(days=2, hours=8), state="ON")

    rollup_rebuild(tenant=device.tenant, since=start + timedelta(days=2, hours=5))

    [row] = Rollup.objects.filter(device=device, period="day")
    assert row.state_ms == {"ON": 19 * 3600_000, "OFF": 5 * 3600_000}
    # Both of the day's events, though the first is before --since.
    assert Rollup.objects.filter(device=device, period="hour").count() == 2


def test_day_rows_whose_raw_events_are_purged_stay_as_they_were(device, settings):
    settings.PURGE_GRACE_SECONDS = 0
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=70)
    for hours, state in [(0, "ON"), (5, "OFF"), (30, "ON")]:
        post(device, old + timedelta(hours=hours), state=state)
    rollup_run(now=now)
    purged_days = Rollup.objects.filter(period="day").order_by("bucket_start")
    before = list(purged_days.values())

    events_purge(now=now)
    post(device, now - timedelta(minutes=5), state="OFF")
    rollup_run(now=now)

    assert Event.objects.filter(ts__lt=now - timedelta(days=60)).count() == 0
    assert list(purged_days.filter(bucket_start__lt=old + timedelta(days=3)).values()) == before
    today = Rollup.objects.get(period="day", bucket_start__gt=old + timedelta(days=3))
    assert today.state_ms["OFF"] == 5 * 60_000
    assert today.state_ms["ON"] == today.known_ms - 5 * 60_000  # carried in from a purged day
