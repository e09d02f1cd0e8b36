"""Messages of the ingest and history rules; tests import them."""

from __future__ import annotations

DEVICE_ID_NOT_STRING = "deviceId must be a string"
DEVICE_ID_TOO_LONG = "deviceId is longer than {limit} characters"
DEVICE_ID_MALFORMED = (
    "deviceId may hold only letters, digits, '_', '.', ':' and '-', starting with a letter or digit"
)

STATE_REQUIRED = "state is required ('ON' or 'OFF')"
STATE_NOT_ON_OFF = "state must be 'ON' or 'OFF'"
STATE_NOT_STRING = "state must be a string"
STATE_EMPTY = "state must not be empty"
STATE_TOO_LONG = "state is longer than {limit} characters"
STATE_NOT_PRINTABLE = "state must not contain control characters"
VALVE_ID_INVALID = "valveId must be the number 1 or 2"

BATCH_EVENT_CHANNEL_REQUIRED = (
    "channel is required in each batch event (the legacy {state, valveId} body is for /api/event)"
)
CHANNEL_INVALID = "channel must be 1-64 characters of letters, digits, '_', '.' or '-'"
BATCH_EVENTS_INVALID = "events must be a list of 1 to {limit} event objects"
BATCH_EVENT_NOT_OBJECT = "an event must be a JSON object"
BATCH_EVENT_OTHER_DEVICE = "an event's deviceId, if given, must be the batch's deviceId"
STATE_XOR_VALUE = "give exactly one of state or value"
VALUE_NOT_NUMBER = "value must be a number"
VALUE_TOO_LARGE = "value must be between -1e15 and 1e15"

TS_INVALID = "ts must be epoch milliseconds (a number) or an ISO 8601 time with an offset"
TS_NOT_POSITIVE = "ts must be a positive number of epoch milliseconds"
TS_NO_OFFSET = "ts must carry a UTC offset, e.g. 2026-01-10T09:50:00Z or +01:00"
TS_TOO_EARLY = "ts is before 2000-01-01 (ts is epoch milliseconds, not seconds)"
TS_IN_FUTURE = "ts is more than 5 minutes in the future"

TIME_PARAM_INVALID = "{name} must be epoch milliseconds or an ISO 8601 time with an offset"
FROM_AFTER_TO = "from must be earlier than to"
RESOLUTION_INVALID = "resolution must be raw, hour, day or auto"
FORMAT_INVALID = "format must be json or csv"

KIND_MISMATCH = "channel {channel!r} holds {kind} readings; this report is {other}"
CONFLICT = "channel {channel!r} already has a different reading at {ts}"
TS_BEFORE_RETENTION = (
    "ts is older than this tenant's raw retention; events before {floor} are no longer kept"
)
WRITE_RATE_EXCEEDED = (
    "too many writes for device {device_id!r}: its tenant allows {described} per device"
    " (write rate {rate})"
)
