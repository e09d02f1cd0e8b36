"""POST /api/event: every kind of bad input answers 4xx JSON and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.services import key_revoke
from events import errors
from events.models import Channel, Event
from telemetry import errors as body_errors
from testsupport import key_header

TS = 1704067200000


def raw_post(api, body: bytes | str, content_type="application/json", **headers):
    return api.generic("POST", "/api/event", body, content_type=content_type, **headers)


def assert_refused(response, status: int, error_gist: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["ok"] is False
    assert error_gist in body["error"]
    assert Event.objects.count() == 0
    assert Channel.objects.count() == 0


def in_future(minutes: int) -> int:
    return int((datetime.now(UTC) + timedelta(minutes=minutes)).timestamp() * 1000)


@pytest.mark.parametrize(
    ("body", "gist"),
    [
        ('{"state":"ON","valveId":3}', errors.VALVE_ID_INVALID),
        ('{"state":"ON","valveId":"2"}', errors.VALVE_ID_INVALID),
        ('{"state":"ON","valveId":true}', errors.VALVE_ID_INVALID),
        ('{"state":"ON","valveId":1.5}', errors.VALVE_ID_INVALID),
        ('{"state":"maybe"}', errors.STATE_NOT_ON_OFF),
        ('{"state":1}', errors.STATE_NOT_ON_OFF),
        ('{"ts":1704067200000}', errors.STATE_REQUIRED),
        ('{"state":"ON","ts":-5}', errors.TS_NOT_POSITIVE),
        ('{"state":"ON","ts":0}', errors.TS_NOT_POSITIVE),
        ('{"state":"ON","ts":"yesterday"}', errors.TS_INVALID),
        ('{"state":"ON","ts":"1704067200000"}', errors.TS_INVALID),
        ('{"state":"ON","ts":"2024-01-01T00:00:00"}', errors.TS_NO_OFFSET),
        ('{"state":"ON","ts":true}', errors.TS_INVALID),
        ('{"state":"ON","ts":{"a":1}}', errors.TS_INVALID),
        ('{"state":"ON","ts":1704067200}', errors.TS_TOO_EARLY),
        ('{"state":"ON","ts":1e300}', errors.TS_IN_FUTURE),
        ('{"state":"ON","ts":1e400}', body_errors.BODY_NOT_FINITE),
        ('{"state":"ON","ts":NaN}', body_errors.BODY_NOT_FINITE),
        ('{"state":"ON","ts":Infinity}', body_errors.BODY_NOT_FINITE),
        ('{"state":"ON","state":"OFF"}', "duplicate key 'state'"),
        ("not json", "not valid JSON"),
        ("null", body_errors.BODY_NOT_OBJECT),
        ("[1, 2]", body_errors.BODY_NOT_OBJECT),
        ('"ON"', body_errors.BODY_NOT_OBJECT),
        ("", body_errors.BODY_EMPTY),
        ("[" * 50000, body_errors.BODY_TOO_DEEP.format(limit=32)),
        (
            '{"state":"ON","pad":' + "[" * 33 + "]" * 33 + "}",
            body_errors.BODY_TOO_DEEP.format(limit=32),
        ),
        ('{"deviceId":{"id":"esp32-01"},"state":"ON"}', errors.DEVICE_ID_NOT_STRING),
        ('{"deviceId":"esp32 01","state":"ON"}', errors.DEVICE_ID_MALFORMED),
        ('{"deviceId":"' + "x" * 10000 + '","state":"ON"}', "deviceId is longer than 64"),
        ('{"channel":"","state":"ON"}', errors.CHANNEL_INVALID),
        ('{"channel":"pump/1","state":"ON"}', errors.CHANNEL_INVALID),
        ('{"channel":"' + "c" * 65 + '","state":"ON"}', errors.CHANNEL_INVALID),
        ('{"channel":["pump"],"state":"ON"}', errors.CHANNEL_INVALID),
        ('{"channel":"pump"}', errors.STATE_XOR_VALUE),
        ('{"channel":"pump","state":"ON","value":1}', errors.STATE_XOR_VALUE),
        ('{"channel":"pump","state":""}', errors.STATE_EMPTY),
        ('{"channel":"pump","state":"' + "s" * 33 + '"}', "state is longer than 32"),
        ('{"channel":"pump","state":"a\\u0000b"}', errors.STATE_NOT_PRINTABLE),
        ('{"channel":"pump","state":{"on":true}}', errors.STATE_NOT_STRING),
        ('{"channel":"t","value":"24.5"}', errors.VALUE_NOT_NUMBER),
        ('{"channel":"t","value":true}', errors.VALUE_NOT_NUMBER),
        ('{"channel":"t","value":1e16}', errors.VALUE_TOO_LARGE),
        ('{"channel":"t","value":-10000000000000001}', errors.VALUE_TOO_LARGE),
        ('{"channel":"t","value":' + "9" * 5000 + "}", "at most 4300 digits"),
        ('{"channel":"t","value":1,"x":{"y":[NaN]}}', body_errors.BODY_NOT_FINITE),
        ('{"channel":"t","value":1,"x":{"a":1,"a":2}}', "duplicate key 'a'"),
    ],
)
def test_bad_input_answers_400_and_stores_nothing(api, device_key, body, gist):
    assert_refused(raw_post(api, body, **key_header(device_key)), 400, gist)


def test_a_ts_more_than_five_minutes_ahead_is_refused(api, device_key):
    body = f'{{"state":"ON","ts":{in_future(6)}}}'

    assert_refused(raw_post(api, body, **key_header(device_key)), 400, errors.TS_IN_FUTURE)


def test_a_ts_a_little_ahead_is_accepted(api, device, device_key):
    response = raw_post(api, f'{{"state":"ON","ts":{in_future(4)}}}', **key_header(device_key))

    assert response.json()["result"] == "stored"


def test_invalid_utf8_is_refused(api, device_key):
    response = raw_post(api, b'{"state":"\xff\xfe"}', **key_header(device_key))

    assert_refused(response, 400, body_errors.BODY_NOT_UTF8)


def test_a_declared_non_json_content_type_is_415(api, device_key):
    response = raw_post(api, '{"state":"ON"}', content_type="text/plain", **key_header(device_key))

    assert_refused(response, 415, "Content-Type must be application/json")


def test_a_body_over_64_kib_is_413_before_parsing(api, device_key):
    body = '{"state":"ON","pad":"' + "x" * (64 * 1024) + '"}'

    assert_refused(raw_post(api, body, **key_header(device_key)), 413, "larger than 65536")


def test_no_key_is_401(api, device):
    response = raw_post(api, '{"state":"ON"}')

    assert_refused(response, 401, "credentials were not provided")
    assert "x-api-key" in response["WWW-Authenticate"]


@pytest.mark.parametrize("key", ["wrong", "", "A" * 40, "é" * 40])
def test_a_wrong_key_is_401(api, device, device_key, key):
    assert_refused(raw_post(api, '{"state":"ON"}', HTTP_X_API_KEY=key), 401, "invalid")


def test_a_key_with_a_right_prefix_and_wrong_secret_is_401(api, device, device_key):
    forged = device_key[:8] + "x" * 32

    assert_refused(raw_post(api, '{"state":"ON"}', HTTP_X_API_KEY=forged), 401, "invalid")


def test_a_revoked_key_stops_working_on_the_next_request(api, device, device_key):
    first = raw_post(api, '{"state":"ON","ts":1704067200000}', HTTP_X_API_KEY=device_key)
    assert first.status_code == 200
    key_revoke(prefix=device_key[:8])

    response = raw_post(api, '{"state":"OFF","ts":1704067201000}', HTTP_X_API_KEY=device_key)

    assert response.status_code == 401
    assert Event.objects.count() == 1


def test_a_key_of_a_deactivated_tenant_is_401(api, tenant, device, device_key):
    tenant.is_active = False
    tenant.save()

    assert_refused(raw_post(api, '{"state":"ON"}', **key_header(device_key)), 401, "invalid")


def test_credentials_are_checked_before_the_body(api, device):
    assert_refused(raw_post(api, "null", HTTP_X_API_KEY="wrong"), 401, "invalid")


def test_the_body_is_checked_before_the_device(api, device_key):
    body = '{"deviceId":"someone-else","state":"maybe"}'

    assert_refused(raw_post(api, body, **key_header(device_key)), 400, errors.STATE_NOT_ON_OFF)
