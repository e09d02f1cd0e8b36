"""A simulated pool controller: the events its firmware would publish over a span.

Pure (no clock, no I/O, no Django), so the `simulate` command and the tests see
the same timeline. Readings and run times depend only on the seed, the programs,
the zone and their own instant, never on where a span starts: two overlapping
spans agree on every event they share, so posting both again is answered
`duplicate`, never 409.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

PUMP, VALVE, TEMPERATURE = "pump", "valve", "temperature"
ON, OFF = "ON", "OFF"
MODES = ("1", "2")  # waterfall, jets
FIRMWARE_DEFAULT_MODE = "1"

MAX_PROGRAMS = 3  # the controller has three program slots
MAX_MINUTES = 24 * 60
DEFAULT_PROGRAM_SPECS = ("daily@09:00/120/1", "daily@16:00/60/2")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

TEMPERATURE_PERIOD_MS = 60_000
LOW_C, HIGH_C = 22.0, 27.0  # at dawn, mid-afternoon
DAWN_HOUR, PEAK_HOUR = 6.0, 15.0
WEATHER_C, WEATHER_PERIOD_MS = 0.6, int(3.7 * 86_400_000)  # a slow drift across days
NOISE_C = 0.3  # peak to peak

MANUAL_RUN_CHANCE = 0.3  # per day
MANUAL_RUN_HOURS = (10, 20)  # local; starts on a whole minute in between
MANUAL_RUN_MINUTES = (10, 15, 20, 30)
# Manual runs keep clear of program runs, so every program run starts from a
# stopped pump and publishes its valve and pump together.
MANUAL_RUN_MARGIN = timedelta(minutes=1)

SPEC_FORMAT = "program {spec!r}: expected DAYS@HH:MM/MINUTES/MODE, e.g. mon,wed,fri@08:00/120/1"
SPEC_WEEKDAY = "program {spec!r}: unknown weekday {day!r}; use mon..sun, comma-separated, or daily"
SPEC_START = "program {spec!r}: the start must be HH:MM between 00:00 and 23:59"
SPEC_MINUTES = "program {spec!r}: the duration must be whole minutes from 1 to 1440"
SPEC_MODE = "program {spec!r}: the mode must be 1 (waterfall) or 2 (jets)"
TOO_MANY_PROGRAMS = "at most {limit} programs (the controller has {limit} slots), got {count}"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ProgramError(ValueError):
    """A program spec the controller could not hold."""


class SimulatedEvent(NamedTuple):
    ts: datetime  # UTC, millisecond precision
    channel: str
    reading: str | float  # a state ("ON", "2") or a numeric value (°C)


@dataclass(frozen=True)
class Program:
    """A weekly program: on these weekdays (0 = Monday) at a local time, run a timer."""

    weekdays: frozenset[int]
    start: time
    minutes: int
    mode: str

    def __str__(self) -> str:
        days = (
            "daily"
            if len(self.weekdays) == len(WEEKDAYS)
            else ",".join(WEEKDAYS[day] for day in sorted(self.weekdays))
        )
        return f"{days}@{self.start:%H:%M}/{self.minutes}/{self.mode}"


# --- Program specs -------------------------------------------------------------------


def _parse_weekdays(text: str, *, spec: str) -> frozenset[int]:
    days: set[int] = set()
    for name in text.split(","):
        if name == "daily":
            days.update(range(len(WEEKDAYS)))
        elif name in WEEKDAYS:
            days.add(WEEKDAYS.index(name))
        else:
            raise ProgramError(SPEC_WEEKDAY.format(spec=spec, day=name))
    return frozenset(days)


def _parse_start(text: str, *, spec: str) -> time:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and len(hours) <= 2 and minutes.isdigit() and len(minutes) == 2):
        raise ProgramError(SPEC_START.format(spec=spec))
    if int(hours) > 23 or int(minutes) > 59:
        raise ProgramError(SPEC_START.format(spec=spec))
    return time(int(hours), int(minutes))


def program_parse(spec: str) -> Program:
    """One `DAYS@HH:MM/MINUTES/MODE` spec, e.g. `mon,wed,fri@08:00/120/1` or `daily@16:00/60/2`."""
    text = spec.strip().lower()
    days, at, rest = text.partition("@")
    parts = rest.split("/")
    if not at or len(parts) != 3:
        raise ProgramError(SPEC_FORMAT.format(spec=spec))
    start, minutes, mode = parts
    weekdays = _parse_weekdays(days, spec=spec)
    if not (minutes.isdigit() and 1 <= int(minutes) <= MAX_MINUTES):
        raise ProgramError(SPEC_MINUTES.format(spec=spec))
    if mode not in MODES:
        raise ProgramError(SPEC_MODE.format(spec=spec))
    return Program(weekdays, _parse_start(start, spec=spec), int(minutes), mode)


def programs_parse(specs: Sequence[str]) -> tuple[Program, ...]:
    """Up to three specs, in slot order (a later slot wins when two start together)."""
    if len(specs) > MAX_PROGRAMS:
        raise ProgramError(TOO_MANY_PROGRAMS.format(limit=MAX_PROGRAMS, count=len(specs)))
    return tuple(program_parse(spec) for spec in specs)


# --- Runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    start: datetime
    minutes: int
    mode: str | None  # None: a manual run keeps the current mode

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A time skipped by a spring change resolves like the clock before it (fold=0),
    # i.e. an hour later on the new clock; a repeated one runs once, the first time.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _program_runs(day: date, *, programs: Sequence[Program], zone: ZoneInfo) -> list[_Run]:
    return [
        _Run(_local(day, program.start, zone), program.minutes, program.mode)
        for program in programs
        if day.weekday() in program.weekdays
    ]


def _manual_run(day: date, *, zone: ZoneInfo, seed: int) -> _Run | None:
    # Seeded per day rather than per span, so a day's manual run never depends on the span.
    rng = random.Random(f"{seed}:manual:{day.isoformat()}")
    if rng.random() >= MANUAL_RUN_CHANCE:
        return None
    first, last = MANUAL_RUN_HOURS
    minute = rng.randrange(first * 60, last * 60)
    minutes = rng.choice(MANUAL_RUN_MINUTES)
    return _Run(_local(day, time(minute // 60, minute % 60), zone), minutes, None)


def _day_runs(
    day: date, *, programs: Sequence[Program], zone: ZoneInfo, seed: int, manual_runs: bool
) -> list[_Run]:
    """The runs starting on a local day, in time order; one per instant, the last slot wins."""
    by_start = {run.start: run for run in _program_runs(day, programs=programs, zone=zone)}
    manual = _manual_run(day, zone=zone, seed=seed) if manual_runs else None
    if manual is not None:
        # Program runs of the day before may last past midnight.
        nearby = _program_runs(day - timedelta(days=1), programs=programs, zone=zone)
        nearby += list(by_start.values())
        if all(
            manual.end + MANUAL_RUN_MARGIN <= run.start
            or run.end + MANUAL_RUN_MARGIN <= manual.start
            for run in nearby
        ):
            by_start[manual.start] = manual
    return sorted(by_start.values(), key=lambda run: run.start)


def _runs(
    *,
    start: datetime,
    end: datetime | None,
    programs: Sequence[Program],
    zone: ZoneInfo,
    seed: int,
    manual_runs: bool,
) -> Iterator[_Run]:
    """Runs starting in [start, end), in time order; lazy, so `end=None` never ends."""
    if not programs and not manual_runs:
        return
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date() if end is not None else None
    while last_day is None or day <= last_day:
        for run in _day_runs(day, programs=programs, zone=zone, seed=seed, manual_runs=manual_runs):
            if end is not None and run.start >= end:
                return
            if run.start >= start:
                yield run
        day += timedelta(days=1)


def _run_events(runs: Iterator[_Run], *, end: datetime | None) -> Iterator[SimulatedEvent]:
    """What the firmware publishes for its timer runs: one timer, a new run replaces it.

    The simulated controller boots at the span's start with the pump off and no
    valve mode published yet, so its first run publishes the valve too.
    """
    mode: str | None = None
    off_at: datetime | None = None  # None: the pump is off
    for run in runs:
        # A run starting just as the last one ends keeps the pump on: the store
        # cannot hold an OFF and an ON of one channel at the same millisecond.
        if off_at is not None and off_at < run.start:
            yield SimulatedEvent(off_at, PUMP, OFF)
            off_at = None
        new_mode = run.mode or mode or FIRMWARE_DEFAULT_MODE
        if new_mode != mode:
            yield SimulatedEvent(run.start, VALVE, new_mode)
            mode = new_mode
        if off_at is None:
            yield SimulatedEvent(run.start, PUMP, ON)
        off_at = run.end
    if off_at is not None and end is not None and off_at < end:
        yield SimulatedEvent(off_at, PUMP, OFF)


# --- Temperature -------------------------------------------------------------------------


def _unit(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by the seed and `parts`, with no state carried between calls."""
    text = ":".join(str(part) for part in (seed, *parts))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _epoch_ms_ceil(moment: datetime) -> int:
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000)


def temperature_at(moment: datetime, *, zone: ZoneInfo, seed: int) -> float:
    """The probe's reading (°C, 0.1 steps): low at dawn, high mid-afternoon, a little noise."""
    ms = _epoch_ms_ceil(moment)
    local = moment.astimezone(zone)
    hour = local.hour + local.minute / 60 + local.second / 3600
    swing = HIGH_C - LOW_C
    if DAWN_HOUR <= hour < PEAK_HOUR:
        rise = (hour - DAWN_HOUR) / (PEAK_HOUR - DAWN_HOUR)
        curve = LOW_C + swing * (1 - math.cos(math.pi * rise)) / 2
    else:
        fall = ((hour - PEAK_HOUR) % 24) / (24 - (PEAK_HOUR - DAWN_HOUR))
        curve = HIGH_C - swing * (1 - math.cos(math.pi * fall)) / 2
    weather_phase = 2 * math.pi * (ms / WEATHER_PERIOD_MS + _unit(seed, "weather"))
    noise = (_unit(seed, "noise", ms) - 0.5) * NOISE_C
    return round(curve + WEATHER_C * math.sin(weather_phase) + noise, 1)


def _temperatures(
    *, start: datetime, end: datetime | None, zone: ZoneInfo, seed: int
) -> Iterator[SimulatedEvent]:
    """A reading every 60 s on a grid fixed by the seed (not by `start`)."""
    phase = int(_unit(seed, "phase") * TEMPERATURE_PERIOD_MS)
    first = _epoch_ms_ceil(start)
    ms = first + (phase - first) % TEMPERATURE_PERIOD_MS
    while True:
        moment = _EPOCH + timedelta(milliseconds=ms)
        if end is not None and moment >= end:
            return
        yield SimulatedEvent(moment, TEMPERATURE, temperature_at(moment, zone=zone, seed=seed))
        ms += TEMPERATURE_PERIOD_MS


# --- The timeline --------------------------------------------------------------------------


def events_simulate(
    *,
    start: datetime,
    end: datetime | None,
    programs: Sequence[Program],
    zone: ZoneInfo,
    seed: int,
    manual_runs: bool = True,
) -> Iterator[SimulatedEvent]:
    """Every event the controller publishes in [start, end), in ts order; lazy, `end=None` is
    endless. At one instant the valve comes before the pump, then the temperature."""
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("start and end must be aware datetimes")
    runs = _runs(
        start=start, end=end, programs=programs, zone=zone, seed=seed, manual_runs=manual_runs
    )
    # heapq.merge is stable: ties keep the order of its arguments.
    yield from heapq.merge(
        _run_events(runs, end=end),
        _temperatures(start=start, end=end, zone=zone, seed=seed),
        key=lambda event: event.ts,
    )
