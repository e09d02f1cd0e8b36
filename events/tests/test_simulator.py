"""The simulated controller's timeline: programs, runs, temperature (no server)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.simulator import (
    ProgramError,
    SimulatedEvent,
    events_simulate,
    program_parse,
    programs_parse,
)

UTC_ZONE = ZoneInfo("UTC")
MADRID = ZoneInfo("Europe/Madrid")
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def timeline(start, end, specs, zone=UTC_ZONE, seed=7, manual_runs=False):
    return list(
        events_simulate(
            start=start,
            end=end,
            programs=programs_parse(specs),
            zone=zone,
            seed=seed,
            manual_runs=manual_runs,
        )
    )


def of(events, channel):
    return [(event.ts, event.reading) for event in events if event.channel == channel]


def on_seconds(events, *, end):
    """Seconds the pump was ON before `end`, from the pump's ON/OFF events."""
    total, since = 0.0, None
    for ts, state in of(events, "pump"):
        if state == "ON":
            since = ts
        elif since is not None:
            total += (ts - since).total_seconds()
            since = None
    if since is not None:
        total += (end - since).total_seconds()
    return total


def test_a_spec_reads_weekdays_start_minutes_and_mode():
    program = program_parse("Mon,Wed,Fri@8:05/120/2")
    assert program.weekdays == frozenset({0, 2, 4})
    assert program.start == time(8, 5)
    assert (program.minutes, program.mode) == (120, "2")
    assert str(program) == "mon,wed,fri@08:05/120/2"
    assert str(program_parse("daily@16:00/60/1")) == "daily@16:00/60/1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("daily 09:00/120/1", "expected DAYS@HH:MM/MINUTES/MODE"),
        ("daily@09:00/120", "expected DAYS@HH:MM/MINUTES/MODE"),
        ("funday@09:00/120/1", "unknown weekday 'funday'"),
        ("daily@24:00/120/1", "the start must be HH:MM"),
        ("daily@09:7/120/1", "the start must be HH:MM"),
        ("daily@09:00/0/1", "whole minutes from 1 to 1440"),
        ("daily@09:00/1441/1", "whole minutes from 1 to 1440"),
        ("daily@09:00/ten/1", "whole minutes from 1 to 1440"),
        ("daily@09:00/120/3", "the mode must be 1 (waterfall) or 2 (jets)"),
    ],
)
def test_a_bad_spec_is_refused_with_what_is_wrong(spec, message):
    with pytest.raises(ProgramError, match=message.replace("(", r"\(").replace(")", r"\)")):
        program_parse(spec)


def test_the_controller_holds_three_programs_at_most():
    with pytest.raises(ProgramError, match="at most 3 programs"):
        programs_parse(["daily@01:00/1/1"] * 4)


def test_a_run_switches_the_valve_and_the_pump_on_in_the_same_instant():
    events = timeline(MONDAY, MONDAY + timedelta(days=1), ["daily@09:00/120/1", "daily@16:00/60/2"])
    nine, four = MONDAY.replace(hour=9), MONDAY.replace(hour=16)
    assert of(events, "valve") == [(nine, "1"), (four, "2")]
    assert of(events, "pump") == [
        (nine, "ON"),
        (nine + timedelta(hours=2), "OFF"),
        (four, "ON"),
        (four + timedelta(hours=1), "OFF"),
    ]
    # At one instant the valve is published before the pump.
    at_nine = [event.channel for event in events if event.ts == nine]
    assert at_nine.index("valve") < at_nine.index("pump")


def test_the_valve_is_published_only_when_its_mode_changes():
    events = timeline(MONDAY, MONDAY + timedelta(days=3), ["daily@09:00/30/2"])
    assert of(events, "valve") == [(MONDAY.replace(hour=9), "2")]
    assert len(of(events, "pump")) == 6


def test_programs_run_only_on_their_weekdays():
    week = timeline(MONDAY, MONDAY + timedelta(days=7), ["mon,wed,fri@08:00/120/1"])
    starts = [ts for ts, state in of(week, "pump") if state == "ON"]
    assert [ts.strftime("%a %H:%M") for ts in starts] == ["Mon 08:00", "Wed 08:00", "Fri 08:00"]
    assert on_seconds(week, end=MONDAY + timedelta(days=7)) == 3 * 120 * 60


def test_programs_follow_the_local_clock_across_a_dst_change():
    # Madrid switches to summer time on 2026-03-29: 09:00 local is 08:00Z, then 07:00Z.
    start = datetime(2026, 3, 28, tzinfo=UTC)
    events = timeline(start, start + timedelta(days=2), ["daily@09:00/60/1"], zone=MADRID)
    starts = [ts for ts, state in of(events, "pump") if state == "ON"]
    assert starts == [datetime(2026, 3, 28, 8, tzinfo=UTC), datetime(2026, 3, 29, 7, tzinfo=UTC)]


def test_a_run_past_the_span_leaves_the_pump_on_without_an_off():
    end = MONDAY.replace(hour=10)
    events = timeline(MONDAY, end, ["daily@09:00/120/1"])
    assert of(events, "pump") == [(MONDAY.replace(hour=9), "ON")]


def test_back_to_back_runs_keep_the_pump_on_and_switch_only_the_valve():
    events = timeline(MONDAY, MONDAY + timedelta(days=1), ["daily@09:00/60/1", "daily@10:00/60/2"])
    nine, ten = MONDAY.replace(hour=9), MONDAY.replace(hour=10)
    assert of(events, "pump") == [(nine, "ON"), (ten + timedelta(hours=1), "OFF")]
    assert of(events, "valve") == [(nine, "1"), (ten, "2")]


def test_temperature_comes_every_60_seconds_on_a_daily_curve():
    start = MONDAY + timedelta(seconds=17, milliseconds=250)  # any start, not a whole minute
    events = timeline(start, start + timedelta(days=7), [])
    readings = of(events, "temperature")
    assert len(readings) == 7 * 24 * 60
    gaps = {later[0] - earlier[0] for earlier, later in itertools.pairwise(readings)}
    assert gaps == {timedelta(seconds=60)}
    values = [value for _, value in readings]
    assert min(values) >= 20.0 and max(values) <= 29.0
    by_hour = Counter()
    for ts, value in readings:
        by_hour[ts.hour] += value
    # Coolest around dawn, warmest mid-afternoon (UTC here).
    assert by_hour[6] < by_hour[12] < by_hour[15]
    assert by_hour[15] > by_hour[21] > by_hour[3]


def test_events_come_in_ts_order_and_never_two_of_a_channel_at_one_instant():
    events = timeline(
        MONDAY,
        MONDAY + timedelta(days=30),
        ["daily@09:00/120/1", "sat,sun@16:00/60/2", "daily@23:30/90/1"],
        zone=MADRID,
        manual_runs=True,
    )
    assert [event.ts for event in events] == sorted(event.ts for event in events)
    assert len({(event.ts, event.channel) for event in events}) == len(events)
    pump = [state for _, state in of(events, "pump")]
    # ON and OFF alternate: a report never repeats the pump's state.
    assert all(a != b for a, b in itertools.pairwise(pump))


def test_manual_runs_come_some_days_and_follow_the_seed():
    def manual_starts(seed):
        events = timeline(MONDAY, MONDAY + timedelta(days=60), [], seed=seed, manual_runs=True)
        return [ts for ts, state in of(events, "pump") if state == "ON"]

    starts = manual_starts(seed=1)
    assert 5 <= len(starts) <= 35  # about three days in ten
    assert all(10 <= ts.hour < 20 for ts in starts)
    assert manual_starts(seed=1) == starts
    assert manual_starts(seed=2) != starts


def test_overlapping_spans_agree_on_every_event_they_share():
    specs = ["daily@09:00/120/1", "daily@16:00/60/2"]
    first = timeline(MONDAY, MONDAY + timedelta(days=4), specs, manual_runs=True)
    later = MONDAY + timedelta(days=2, hours=3, seconds=11)
    second = timeline(later, MONDAY + timedelta(days=6), specs, manual_runs=True)
    overlap_end = MONDAY + timedelta(days=4)

    def temperatures(events):
        return [e for e in events if e.channel == "temperature" and later <= e.ts < overlap_end]

    assert len(temperatures(first)) > 2000
    assert temperatures(first) == temperatures(second)
    # The same instant and channel never carries two readings, so a re-post is a duplicate.
    readings = {(event.ts, event.channel): event.reading for event in first}
    shared = [event for event in second if (event.ts, event.channel) in readings]
    assert len(shared) > len(temperatures(second))
    assert all(readings[(event.ts, event.channel)] == event.reading for event in shared)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        next(
            events_simulate(
                start=datetime(2026, 1, 1), end=None, programs=(), zone=UTC_ZONE, seed=1
            )
        )


def test_the_endless_timeline_is_lazy():
    events = events_simulate(
        start=MONDAY, end=None, programs=programs_parse(["daily@00:00/5/1"]), zone=UTC_ZONE, seed=1
    )
    first = [next(events) for _ in range(3)]
    assert first[:2] == [
        SimulatedEvent(MONDAY, "valve", "1"),
        SimulatedEvent(MONDAY, "pump", "ON"),
    ]
    assert first[2].channel == "temperature"
