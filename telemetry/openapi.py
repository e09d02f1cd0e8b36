"""The OpenAPI 3 description (drf-spectacular): schemas, errors, auth schemes, examples.

Our endpoints parse bodies by hand (events/serializers.py), so their schemas are
written here as JSON Schema; tests and schemathesis hold the two together.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from devices.models import DEVICE_ID_MAX_LENGTH, DEVICE_ID_RE
from events.models import STATE_MAX_LENGTH, VALUE_MAX_ABS
from events.serializers import (
    BATCH_MAX_EVENTS,
    LIMIT_MAX_WITH_RESOLUTION,
    OUTPUT_FORMATS,
    RESOLUTIONS,
)


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "devices.auth.DeviceKeyAuthentication"
    name = "DeviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "A device's API key (shown once when created). It may act for "
            "its own device only.",
        }


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.auth.TenantJWTAuthentication"
    name = "Bearer"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A user's access token from /api/auth/token; it may act for the "
            "devices of the user's tenant (viewers read only).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.auth.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The pages' own calls, after logging in at /login/; writes also "
            "need the X-CSRFToken header.",
        }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TS = {
    "oneOf": [
        {"type": "number", "description": "epoch milliseconds"},
        {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset"},
    ],
    "nullable": True,
    "description": "When it happened: epoch milliseconds or ISO 8601 with an offset; missing "
    "or null means now. Refused before 2000 or more than 5 minutes ahead.",
}
DEVICE_ID = {
    "type": "string",
    "maxLength": DEVICE_ID_MAX_LENGTH,
    "pattern": DEVICE_ID_RE.pattern,
    "example": "esp32-01",
    "description": "The device's id; missing means the key's own device (a user must name it).",
}
CHANNEL = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$", "example": "pump"}
STATE = {"type": "string", "maxLength": STATE_MAX_LENGTH, "example": "ON"}
VALUE = {"type": "number", "minimum": -VALUE_MAX_ABS, "maximum": VALUE_MAX_ABS}
RESULT = {"type": "string", "enum": ["stored", "duplicate", "conflict", "rejected"]}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["ok", "error"],
        "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "error": {"type": "string", "description": "What is wrong, in words."},
        },
    },
    "LegacyEvent": {
        "type": "object",
        "description": "The old firmware's body: valve `valveId` turns ON or OFF (channel "
        "`valveN`).",
        "required": ["state"],
        "properties": {
            "deviceId": DEVICE_ID,
            "state": {"type": "string", "pattern": "^\\s*([oO][nN]|[oO][fF][fF])\\s*$"},
            "ts": TS,
            "valveId": {"type": "integer", "enum": [1, 2], "default": 1},
        },
    },
    "Reading": {
        "type": "object",
        "description": "A channel's state or numeric value: exactly one of `state`, `value`.",
        "required": ["channel"],
        "properties": {
            "deviceId": DEVICE_ID,
            "channel": CHANNEL,
            "state": STATE,
            "value": VALUE,
            "ts": TS,
        },
    },
    "Stored": {
        "type": "object",
        "required": ["ok", "result", "inserted", "meta"],
        "properties": {
            "ok": {"type": "boolean", "enum": [True]},
            "result": {"type": "string", "enum": ["stored", "duplicate"]},
            "inserted": {
                "type": "object",
                "description": "The event as stored, in the shape it was sent.",
                "additionalProperties": True,
            },
            "meta": {"type": "object", "properties": {"success": {"type": "boolean"}}},
        },
    },
    "Batch": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "deviceId": DEVICE_ID,
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": BATCH_MAX_EVENTS,
                "items": _ref("Reading"),
            },
        },
    },
    "BatchResults": {
        "type": "object",
        "required": ["ok", "deviceId", *RESULT["enum"], "results"],
        "properties": {
            "ok": {"type": "boolean", "enum": [True]},
            "deviceId": {"type": "string"},
            **{result: {"type": "integer", "minimum": 0} for result in RESULT["enum"]},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "result", "error"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "result": RESULT,
                        "error": {"type": "string", "nullable": True},
                    },
                },
            },
        },
    },
    "HistoryItem": {
        "type": "object",
        "description": "A raw event (`state` or `value`; `valve_id` on legacy `valveN` "
        "channels) or, with an hour/day resolution, a bucket (`ts` is its start).",
        "required": ["ts", "channel"],
        "properties": {
            "ts": {"type": "integer", "description": "epoch milliseconds"},
            "channel": {"type": "string"},
            "state": {"type": "string"},
            "value": {"type": "number"},
            "valve_id": {"type": "integer"},
            "bucket_seconds": {"type": "integer"},
            "count": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "time_zone": {"type": "string"},
            "state_seconds": {"type": "object", "additionalProperties": {"type": "number"}},
            "known_seconds": {"type": "number"},
            "changes": {"type": "integer"},
            "last_state": {"type": "string"},
            **{
                name: {"type": "number", "nullable": True}
                for name in ("min", "max", "sum", "mean", "twa", "last_value")
            },
        },
    },
    "History": {
        "type": "object",
        "required": ["ok", "deviceId", "range", "sinceTs", "resolution", "count", "items"],
        "properties": {
            "ok": {"type": "boolean", "enum": [True]},
            "deviceId": {"type": "string"},
            "range": {
                "type": "string",
                "example": "24h",
                "description": "The range used, as clamped (`30d` for `45d`, `24h` when "
                "unparseable, `all`), or `custom` when `from` set the window.",
            },
            "sinceTs": {"type": "integer", "description": "the window's start, epoch ms"},
            "untilTs": {"type": "integer", "nullable": True},
            "resolution": {"type": "string", "enum": ["raw", "hour", "day"]},
            "count": {"type": "integer"},
            "items": {"type": "array", "items": _ref("HistoryItem")},
            "before": {
                "type": "array",
                "description": "Raw answers: per channel, the state or value carried in at "
                "the window's start.",
                "items": _ref("HistoryItem"),
            },
        },
    },
    "Tokens": {
        "type": "object",
        "required": ["access", "refresh"],
        "properties": {"access": {"type": "string"}, "refresh": {"type": "string"}},
    },
}

_ERRORS = {
    400: "Bad input: the body's shape or a field's rule (see `error`).",
    401: "No credentials, or a wrong, revoked or expired key or token.",
    403: "Credentials that may not do this: a key naming another device, a viewer writing.",
    404: "No such device in the caller's tenant (another tenant's answers the same).",
    405: "Wrong method.",
    409: "A different reading is stored at that instant, or the channel holds the other kind.",
    413: "The body is too large.",
    415: "A declared Content-Type that is not JSON (a missing one is read as JSON).",
    429: "Too many requests: the device's write rate, or failed credentials from this "
    "address. Retry after `Retry-After` seconds.",
    503: "The database or the cache is briefly unavailable; retry after `Retry-After`.",
}


def _errors(*codes: int) -> dict:
    return {
        code: OpenApiResponse(response=_ref("Error"), description=_ERRORS[code]) for code in codes
    }


def _ok(schema: str, description: str) -> dict:
    return {200: OpenApiResponse(response=_ref(schema), description=description)}


DEVICE_AUTH_ERRORS = (400, 401, 403, 404, 405, 429, 503)

event_post = extend_schema(
    operation_id="event_post",
    summary="Store one event",
    description="The legacy body (`state` + `valveId`) or, when `channel` is present, a "
    "reading of any channel. A retried post answers `duplicate`; another reading at the "
    "same instant answers 409. Counts one write against the device's rate.",
    request={"application/json": {"oneOf": [_ref("LegacyEvent"), _ref("Reading")]}},
    responses={
        **_ok("Stored", "Stored, or already stored."),
        **_errors(*DEVICE_AUTH_ERRORS, 409, 413, 415),
    },
    examples=[
        OpenApiExample(
            "Legacy firmware",
            value={"deviceId": "esp32-01", "state": "ON", "ts": 1704067200000, "valveId": 1},
            request_only=True,
        ),
        OpenApiExample(
            "A reading", value={"channel": "temperature", "value": 24.5}, request_only=True
        ),
        OpenApiExample(
            "A valve mode",
            value={"channel": "valve", "state": "2", "ts": "2026-01-10T09:50:00+01:00"},
            request_only=True,
        ),
    ],
)

events_post = extend_schema(
    operation_id="events_batch_post",
    summary="Store up to 1000 events of one device",
    description="Each event is answered on its own (`stored`, `duplicate`, `conflict`, "
    "`rejected`, with the reason); valid events are stored even when others are not (an "
    "event holding NaN, Infinity or a duplicate key is rejected alone). 400 only for a bad "
    "envelope. Counts as one write against the device's rate.",
    request={"application/json": _ref("Batch")},
    responses={
        **_ok("BatchResults", "Each event's result, by index."),
        **_errors(*DEVICE_AUTH_ERRORS, 413, 415),
    },
    examples=[
        OpenApiExample(
            "A buffer after an outage",
            value={
                "deviceId": "esp32-01",
                "events": [
                    {"channel": "valve", "state": "2", "ts": 1704067200000},
                    {"channel": "pump", "state": "ON", "ts": 1704067200000},
                    {"channel": "temperature", "value": 24.5, "ts": 1704067260000},
                ],
            },
            request_only=True,
        )
    ],
)

history_get = extend_schema(
    operation_id="history_get",
    summary="Read a device's history",
    description="Raw events (oldest first, `ts >= sinceTs`), or hourly/daily summaries in "
    "the tenant's time zone. `from`/`to` win over `range`.",
    parameters=[
        OpenApiParameter(
            "deviceId",
            str,
            pattern=DEVICE_ID_RE.pattern,
            examples=[OpenApiExample("A device", value="esp32-01")],
            description="Required for a user; a key's own device when missing.",
        ),
        OpenApiParameter(
            "range",
            str,
            description="`<n>m`, `<n>h`, `<n>d` (clamped to 1 minute … 30 "
            "days) or `all` (365 days); unparseable means 24h. Ignored when `from` is "
            "given; with `to` alone, the window is the range before `to`.",
        ),
        OpenApiParameter(
            "limit",
            int,
            description=f"Items, 1 to 500 (to "
            f"{LIMIT_MAX_WITH_RESOLUTION} with a resolution); default 200, "
            "clamped.",
        ),
        OpenApiParameter("channel", str, pattern=CHANNEL["pattern"]),
        OpenApiParameter("from", str, description="Epoch ms or ISO 8601 with an offset."),
        OpenApiParameter("to", str, description="Exclusive; epoch ms or ISO 8601."),
        OpenApiParameter(
            "resolution",
            str,
            enum=list(RESOLUTIONS),
            description="Default raw; auto picks raw, hour or day.",
        ),
        OpenApiParameter(
            "format",
            str,
            enum=list(OUTPUT_FORMATS),
            description="Default json; csv answers the same items as a CSV download, times "
            "in the tenant's time zone with their offset.",
        ),
    ],
    responses={
        (200, "application/json"): OpenApiResponse(
            response=_ref("History"), description="The window's items."
        ),
        (200, "text/csv"): OpenApiResponse(
            response={"type": "string"}, description="With format=csv: one row per item."
        ),
        **_errors(*DEVICE_AUTH_ERRORS),
    },
)

token_post = extend_schema(
    operation_id="auth_token",
    summary="Log in: username and password for an access and a refresh token",
    request={
        "application/json": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        }
    },
    responses={
        **_ok("Tokens", "Access (short-lived) and refresh tokens."),
        **_errors(400, 401, 405, 413, 415, 429, 503),
    },
    auth=[],
)

token_refresh_post = extend_schema(
    operation_id="auth_token_refresh",
    summary="A new access token and a new refresh token (the old one is blacklisted)",
    request={
        "application/json": {
            "type": "object",
            "required": ["refresh"],
            "properties": {"refresh": {"type": "string"}},
        }
    },
    responses={**_ok("Tokens", "New tokens."), **_errors(400, 401, 405, 413, 415, 503)},
    auth=[],
)


def components_add(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook: the schemas the endpoints refer to, and the
    paths as devices spell them (both spellings answer: `^api/event/?$`)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    result["paths"] = {path.rstrip("/"): item for path, item in result["paths"].items()}
    return result
