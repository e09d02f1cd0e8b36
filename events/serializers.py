"""Parsing of event bodies and history queries into typed values (4xx on bad input).

Plain functions rather than DRF serializers: the legacy protocol needs exact
control over leniency (a missing ts, a missing Content-Type) and strictness
(duplicate keys, non-finite numbers), and ingest is the hot path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devices.models import DEVICE_ID_MAX_LENGTH, DEVICE_ID_RE
from events import errors
from events.models import CHANNEL_RE, STATE_MAX_LENGTH, VALUE_MAX_ABS, ChannelKind
from telemetry.errors import BadInput
from telemetry.jsonbody import refusal_in

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
FUTURE_TOLERANCE = timedelta(minutes=5)
ONE_MS = timedelta(milliseconds=1)
LEGACY_VALVE_RE = re.compile(r"^valve([0-9]+)$")


# --- Times ------------------------------------------------------------------------


def to_epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // ONE_MS


def truncate_to_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _from_epoch_ms(number: float) -> datetime | None:
    """Epoch milliseconds (fractions truncated) to UTC, or None when out of range."""
    if not 0 <= number <= LATEST_MS:
        return None
    return EPOCH + ONE_MS * int(number)  # twice as fast as timedelta(milliseconds=...)


def _from_iso(text: str) -> datetime | None:
    """An ISO 8601 time with an offset, in UTC and ms precision, or None if unparseable."""
    if len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        raise BadInput(errors.TS_NO_OFFSET)
    try:
        return truncate_to_ms(moment.astimezone(UTC))
    except OverflowError:
        return None


def parse_ts(raw: Any, *, now: datetime) -> datetime:
    """An event's `ts`: missing or null means now; refused before 2000 or > 5 min ahead."""
    if raw is None:
        return truncate_to_ms(now)
    if isinstance(raw, bool):
        raise BadInput(errors.TS_INVALID)
    if isinstance(raw, int | float):
        if raw <= 0:
            raise BadInput(errors.TS_NOT_POSITIVE)
        moment = _from_epoch_ms(raw)
        if moment is None:
            raise BadInput(errors.TS_IN_FUTURE)
    elif isinstance(raw, str):
        moment = _from_iso(raw)
        if moment is None:
            raise BadInput(errors.TS_INVALID)
    else:
        raise BadInput(errors.TS_INVALID)
    if moment < EARLIEST:
        raise BadInput(errors.TS_TOO_EARLY)
    if moment > now + FUTURE_TOLERANCE:
        raise BadInput(errors.TS_IN_FUTURE)
    return moment


def parse_time_param(raw: str, *, name: str) -> datetime:
    """A strict `from`/`to` query parameter: epoch ms digits or ISO 8601 with offset."""
    invalid = BadInput(errors.TIME_PARAM_INVALID.format(name=name))
    text = raw.strip()
    if text.isascii() and text.isdigit():
        moment = _from_epoch_ms(int(text)) if len(text) <= 15 else None
    else:
        try:
            moment = _from_iso(text)
        except BadInput:
            raise invalid from None
    if moment is None or moment < EPOCH:
        raise invalid
    return moment


# --- Fields -------------------------------------------------------------------------


def parse_device_id(raw: Any) -> str | None:
    """A trimmed deviceId; missing, null or blank means "the caller's own device"."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadInput(errors.DEVICE_ID_NOT_STRING)
    device_id = raw.strip()
    if not device_id:
        return None
    if len(device_id) > DEVICE_ID_MAX_LENGTH:
        raise BadInput(errors.DEVICE_ID_TOO_LONG.format(limit=DEVICE_ID_MAX_LENGTH))
    if not DEVICE_ID_RE.match(device_id):
        raise BadInput(errors.DEVICE_ID_MALFORMED)
    return device_id


def parse_channel(raw: Any) -> str:
    if not isinstance(raw, str) or not CHANNEL_RE.match(raw):
        raise BadInput(errors.CHANNEL_INVALID)
    return raw


def _parse_state(raw: Any) -> str:
    """Any short printable state; ON/OFF in any case is stored upper-case."""
    if not isinstance(raw, str):
        raise BadInput(errors.STATE_NOT_STRING)
    state = raw.strip()
    if not state:
        raise BadInput(errors.STATE_EMPTY)
    if len(state) > STATE_MAX_LENGTH:
        raise BadInput(errors.STATE_TOO_LONG.format(limit=STATE_MAX_LENGTH))
    if not state.isprintable():
        raise BadInput(errors.STATE_NOT_PRINTABLE)
    return state.upper() if state.upper() in ("ON", "OFF") else state


def _parse_on_off(raw: Any) -> str:
    if raw is None:
        raise BadInput(errors.STATE_REQUIRED)
    if not isinstance(raw, str) or raw.strip().upper() not in ("ON", "OFF"):
        raise BadInput(errors.STATE_NOT_ON_OFF)
    return raw.strip().upper()


def _parse_value(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise BadInput(errors.VALUE_NOT_NUMBER)
    if not -VALUE_MAX_ABS <= raw <= VALUE_MAX_ABS:
        raise BadInput(errors.VALUE_TOO_LARGE)
    return float(raw)


def _parse_valve_id(raw: Any) -> int:
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw not in (1, 2):
        raise BadInput(errors.VALVE_ID_INVALID)
    return int(raw)


# --- Bodies and queries ---------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One validated report for a channel: exactly one of state or value."""

    channel: str
    ts: datetime
    state: str | None = None
    value: float | None = None

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.STATE if self.state is not None else ChannelKind.NUMERIC


@dataclass(frozen=True)
class EventSubmission:
    device_id: str | None
    reading: Reading
    valve_id: int | None  # set for the legacy body only

    def echo(self, device_id: str) -> dict[str, Any]:
        """What the answer's `inserted` repeats back, in the body's own shape."""
        ts = to_epoch_ms(self.reading.ts)
        if self.valve_id is not None:
            return {
                "deviceId": device_id,
                "ts": ts,
                "state": self.reading.state,
                "valveId": self.valve_id,
            }
        reading = self.reading
        field = {"state": reading.state} if reading.state is not None else {"value": reading.value}
        return {"deviceId": device_id, "channel": reading.channel, "ts": ts, **field}


def parse_event_body(body: dict[str, Any], *, now: datetime) -> EventSubmission:
    """The legacy body ({state, valveId}) or, when `channel` is present, the richer one."""
    device_id = parse_device_id(body.get("deviceId"))
    if "channel" not in body:
        state = _parse_on_off(body.get("state"))
        valve_id = _parse_valve_id(body.get("valveId"))
        ts = parse_ts(body.get("ts"), now=now)
        return EventSubmission(device_id, Reading(f"valve{valve_id}", ts, state=state), valve_id)
    return EventSubmission(device_id, _parse_reading(body, now=now), None)


def _parse_reading(body: dict[str, Any], *, now: datetime) -> Reading:
    """The richer body's reading: `channel`, exactly one of `state` or `value`, and `ts`."""
    channel = parse_channel(body.get("channel"))
    state, value = body.get("state"), body.get("value")
    if (state is None) == (value is None):
        raise BadInput(errors.STATE_XOR_VALUE)
    ts = parse_ts(body.get("ts"), now=now)
    if state is not None:
        return Reading(channel, ts, state=_parse_state(state))
    return Reading(channel, ts, value=_parse_value(value))


BATCH_MAX_EVENTS = 1000


@dataclass(frozen=True)
class BatchSubmission:
    device_id: str | None
    items: list[Reading | str]  # each event's reading, or why it was rejected


def _parse_batch_event(raw: Any, *, device_id: str | None, now: datetime) -> Reading:
    if (refusal := refusal_in(raw)) is not None:  # NaN, a duplicate key...: this event only
        raise BadInput(refusal)
    if not isinstance(raw, dict):
        raise BadInput(errors.BATCH_EVENT_NOT_OBJECT)
    if "deviceId" in raw and parse_device_id(raw["deviceId"]) != device_id:
        raise BadInput(errors.BATCH_EVENT_OTHER_DEVICE)
    if "channel" not in raw:
        raise BadInput(errors.BATCH_EVENT_CHANNEL_REQUIRED)
    return _parse_reading(raw, now=now)


def parse_batch_body(body: dict[str, Any], *, now: datetime) -> BatchSubmission:
    """`{"deviceId", "events": [...]}`: a bad envelope is 400; a bad event only rejects itself.

    `body` comes from a lenient read (`strict=False`): the envelope's own values must
    obey the JSON rules; an event that breaks them is rejected alone.
    """
    for key, value in body.items():
        if key == "events" and isinstance(value, list):
            continue  # each event is judged on its own below
        if (refusal := refusal_in(value)) is not None:
            raise BadInput(refusal)
    device_id = parse_device_id(body.get("deviceId"))
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= BATCH_MAX_EVENTS:
        raise BadInput(errors.BATCH_EVENTS_INVALID.format(limit=BATCH_MAX_EVENTS))
    items: list[Reading | str] = []
    for raw in events:
        try:
            items.append(_parse_batch_event(raw, device_id=device_id, now=now))
        except BadInput as exc:
            items.append(exc.message)
    return BatchSubmission(device_id, items)


def legacy_valve_id(channel: str) -> int | None:
    match = LEGACY_VALVE_RE.match(channel)
    return int(match.group(1)) if match else None


RANGE_RE = re.compile(r"^([0-9]+)([mhd])$")
RANGE_MAX_DIGITS = 9  # a longer count (once leading zeros go) is over 30 days in any unit
RANGE_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
RANGE_DEFAULT = "24h"
RANGE_MIN = timedelta(minutes=1)
RANGE_MAX = timedelta(days=30)
RANGE_ALL = timedelta(days=365)
RANGE_CUSTOM = "custom"  # the answer's `range` when `from` sets the window's start
LIMIT_DEFAULT, LIMIT_MAX = 200, 500
LIMIT_MAX_WITH_RESOLUTION = 5000
RESOLUTIONS = ("raw", "hour", "day", "auto")
# Our own `format` parameter (DRF's format switch is turned off in settings).
OUTPUT_FORMATS = ("json", "csv")


@dataclass(frozen=True)
class HistoryQuery:
    device_id: str | None
    range_label: str
    start: datetime
    end: datetime | None  # exclusive; None: no upper bound (legacy)
    channel: str | None
    limit: int
    resolution: str  # raw, hour, day or auto
    output: str = "json"  # json or csv


def _parse_range(raw: str | None) -> tuple[str, timedelta]:
    """Lenient legacy `range`: unparseable means 24h; clamped to 1m..30d except `all`."""
    text = (raw or "").strip().lower()
    if text == "all":
        return "all", RANGE_ALL
    match = RANGE_RE.match(text) or RANGE_RE.match(RANGE_DEFAULT)
    digits, unit = match.group(1).lstrip("0"), match.group(2)
    if len(digits) > RANGE_MAX_DIGITS:
        return "30d", RANGE_MAX
    count = int(digits or "0")
    span = RANGE_UNITS[unit] * count
    if span < RANGE_MIN:
        return "1m", RANGE_MIN
    if span > RANGE_MAX:
        return "30d", RANGE_MAX
    return f"{count}{unit}", span


def _parse_limit(raw: str | None, *, maximum: int) -> int:
    """Lenient legacy `limit`: not a number means the default; clamped to 1..maximum."""
    try:
        number = float((raw or "").strip())
    except ValueError:
        return LIMIT_DEFAULT
    if not math.isfinite(number):
        return LIMIT_DEFAULT
    return max(1, min(maximum, int(number)))


def parse_history_query(params: Any, *, now: datetime) -> HistoryQuery:
    """History parameters: lenient legacy `range`/`limit`, strict `from`/`to`/`channel`."""
    device_id = parse_device_id(params.get("deviceId"))
    channel = params.get("channel")
    if channel is not None:
        channel = parse_channel(channel)
    label, span = _parse_range(params.get("range"))
    start = parse_time_param(params["from"], name="from") if params.get("from") else None
    end = parse_time_param(params["to"], name="to") if params.get("to") else None
    if start is not None and end is not None and start >= end:
        raise BadInput(errors.FROM_AFTER_TO)
    if start is None:
        start = (end or now) - span
    else:
        label = RANGE_CUSTOM  # `range` played no part
    resolution = params.get("resolution")
    if resolution is not None and resolution not in RESOLUTIONS:
        raise BadInput(errors.RESOLUTION_INVALID)
    # Legacy calls (no resolution) keep the legacy 500 cap.
    maximum = LIMIT_MAX if resolution is None else LIMIT_MAX_WITH_RESOLUTION
    limit = _parse_limit(params.get("limit"), maximum=maximum)
    output = params.get("format", "json")
    if output not in OUTPUT_FORMATS:
        raise BadInput(errors.FORMAT_INVALID)
    return HistoryQuery(device_id, label, start, end, channel, limit, resolution or "raw", output)
