"""POST /api/events: a device's buffer in one request, each event answered on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from events import errors
from events.models import Channel, Event
from events.serializers import to_epoch_ms
from telemetry import errors as body_errors
from testsupport import bearer, key_header, make_device

T0 = datetime(2026, 1, 10, tzinfo=UTC)


def reading(i: int, **fields) -> dict:
    """Temperature readings a minute apart."""
    return {"channel": "temperature", "value": 20 + i / 100, "ts": to_epoch_ms(T0) + i * 60_000,
            **fields}  # fmt: skip


def post(api, body, **headers):
    return api.post("/api/events", body, format="json", **headers)


def stored(device) -> list[tuple]:
    return list(
        Event.objects.filter(device=device)
        .order_by("ts", "channel")
        .values_list("channel", "ts", "state", "value")
    )


BAD = {
    10: ({"channel": "bad channel!", "value": 1, "ts": 1}, errors.CHANNEL_INVALID),
    500: ({"channel": "temperature", "value": "warm"}, errors.VALUE_NOT_NUMBER),
    999: ({"channel": "pump", "state": "ON", "ts": "yesterday"}, errors.TS_INVALID),
}


def thousand_with_three_bad() -> list[dict]:
    events = [reading(i) for i in range(1000)]
    for index, (event, _) in BAD.items():
        events[index] = event
    return events


def test_a_batch_of_1000_with_3_bad_stores_997_and_names_the_3(api, device, device_key):
    response = post(api, {"events": thousand_with_three_bad()}, **key_header(device_key))

    body = response.json()
    assert response.status_code == 200
    assert (body["ok"], body["deviceId"]) == (True, "esp32-01")
    assert (body["stored"], body["duplicate"], body["conflict"], body["rejected"]) == (997, 0, 0, 3)
    assert len(body["results"]) == 1000
    rejected = [item for item in body["results"] if item["result"] == "rejected"]
    assert rejected == [
        {"index": index, "result": "rejected", "error": message}
        for index, (_, message) in BAD.items()
    ]
    assert body["results"][0] == {"index": 0, "result": "stored", "error": None}
    assert Event.objects.filter(device=device).count() == 997


def test_the_same_batch_again_stores_nothing_and_reports_997_duplicates(api, device, device_key):
    events = thousand_with_three_bad()
    post(api, {"events": events}, **key_header(device_key))
    before = stored(device)

    body = post(api, {"events": events}, **key_header(device_key)).json()

    assert (body["stored"], body["duplicate"], body["rejected"]) == (0, 997, 3)
    assert stored(device) == before


def test_a_different_reading_at_a_stored_instant_is_a_conflict(api, device, device_key):
    post(api, {"events": [reading(0)]}, **key_header(device_key))

    response = post(api, {"events": [reading(0, value=99), reading(1)]}, **key_header(device_key))
    body = response.json()

    conflict, ok = body["results"]
    assert conflict["result"] == "conflict"
    assert conflict["error"] == errors.CONFLICT.format(channel="temperature", ts=T0.isoformat())
    assert ok == {"index": 1, "result": "stored", "error": None}
    assert [value for *_, value in stored(device)] == [20.0, 20.01]


def test_one_instant_twice_in_a_batch_stores_once(api, device, device_key):
    events = [reading(0), reading(0), reading(0, value=5)]

    body = post(api, {"events": events}, **key_header(device_key)).json()

    assert [item["result"] for item in body["results"]] == ["stored", "duplicate", "conflict"]
    assert len(stored(device)) == 1


def test_the_first_event_of_a_new_channel_fixes_its_kind(api, device, device_key):
    events = [
        {"channel": "pump", "state": "on", "ts": to_epoch_ms(T0)},
        {"channel": "pump", "value": 1, "ts": to_epoch_ms(T0) + 1000},
    ]

    body = post(api, {"events": events}, **key_header(device_key)).json()

    assert [item["result"] for item in body["results"]] == ["stored", "conflict"]
    assert body["results"][1]["error"] == errors.KIND_MISMATCH.format(
        channel="pump", kind="state", other="numeric"
    )
    assert stored(device) == [("pump", T0, "ON", None)]


def test_it_keeps_the_newest_stored_reading_as_the_current_state(api, device, device_key):
    events = [reading(5), reading(9), reading(2)]

    post(api, {"events": events}, **key_header(device_key))

    channel = Channel.objects.get(device=device, name="temperature")
    assert (channel.last_ts, channel.last_value) == (T0 + timedelta(minutes=9), 20.09)


def test_an_event_naming_another_device_is_rejected_alone(api, device, device_key):
    events = [reading(0, deviceId="esp32-02"), reading(1, deviceId="esp32-01")]

    body = post(api, {"deviceId": "esp32-01", "events": events}, **key_header(device_key)).json()

    assert body["results"][0] == {
        "index": 0,
        "result": "rejected",
        "error": errors.BATCH_EVENT_OTHER_DEVICE,
    }
    assert body["results"][1]["result"] == "stored"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"events": []},
        {"events": {"channel": "pump"}},
        {"events": [reading(i) for i in range(1001)]},
    ],
)
def test_a_bad_envelope_is_400_and_stores_nothing(api, device, device_key, body):
    response = post(api, body, **key_header(device_key))

    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": errors.BATCH_EVENTS_INVALID.format(limit=1000),
    }
    assert stored(device) == []


def test_an_event_that_is_not_an_object_is_rejected_alone(api, device, device_key):
    body = post(api, {"events": ["ON", reading(0)]}, **key_header(device_key)).json()

    assert body["results"][0]["error"] == errors.BATCH_EVENT_NOT_OBJECT
    assert (body["rejected"], body["stored"]) == (1, 1)


def test_a_legacy_event_without_a_channel_is_rejected_saying_so(api, device, device_key):
    legacy = {"state": "ON", "valveId": 2, "ts": 1704067200000}
    body = post(api, {"events": [legacy, reading(0)]}, **key_header(device_key)).json()

    assert body["results"][0]["error"] == errors.BATCH_EVENT_CHANNEL_REQUIRED
    assert (body["rejected"], body["stored"]) == (1, 1)
    assert len(stored(device)) == 1


def test_a_body_over_1_mib_is_413_before_it_is_read(api, device, device_key):
    padding = "x" * (1024 * 1024)
    payload = json.dumps({"events": [reading(0)], "pad": padding})

    response = api.post("/api/events", payload, content_type="application/json",
                        **key_header(device_key))  # fmt: skip

    assert response.status_code == 413
    assert response.json() == {
        "ok": False,
        "error": body_errors.BODY_TOO_LARGE.format(limit=1024 * 1024),
    }
    assert stored(device) == []


def test_it_inserts_in_bulk_not_one_query_per_event(
    api, device, device_key, django_assert_max_num_queries
):
    post(api, {"events": [reading(0)]}, **key_header(device_key))  # the channel exists now
    with django_assert_max_num_queries(8):
        body = post(api, {"events": [reading(i) for i in range(1, 1000)]}, **key_header(device_key))
    assert body.json()["stored"] == 999


def test_without_credentials_it_is_401(api, device):
    response = post(api, {"events": [reading(0)]})

    assert response.status_code == 401
    assert response.json()["ok"] is False
    assert stored(device) == []


def test_a_key_naming_another_device_is_403(api, device, device_key):
    response = post(api, {"deviceId": "esp32-99", "events": [reading(0)]}, **key_header(device_key))

    assert response.status_code == 403
    assert stored(device) == []


def test_a_user_posts_for_a_device_of_their_tenant(api, device, alice):
    body = post(api, {"deviceId": "esp32-01", "events": [reading(0)]}, **bearer(alice)).json()

    assert body["stored"] == 1
    assert len(stored(device)) == 1


def test_another_tenants_device_is_404_like_a_missing_one(api, tenant, other_device, charlie):
    ours = make_device(tenant, "esp32-02")  # charlie's tenant has no esp32-02
    body = {"events": [reading(0)]}

    missing = post(api, {"deviceId": "esp32-99", **body}, **bearer(charlie))
    theirs = post(api, {"deviceId": "esp32-02", **body}, **bearer(charlie))
    own = post(api, {"deviceId": "esp32-01", **body}, **bearer(charlie))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert own.json()["stored"] == 1  # his tenant's own esp32-01
    assert stored(ours) == []
    assert len(stored(other_device)) == 1


def test_a_viewer_may_not_write(api, device, bob):
    response = post(api, {"deviceId": "esp32-01", "events": [reading(0)]}, **bearer(bob))

    assert response.status_code == 403
    assert stored(device) == []


def test_get_is_405_with_or_without_credentials(api, device_key):
    assert api.get("/api/events").status_code == 405
    response = api.get("/api/events", **key_header(device_key))
    assert response.status_code == 405
    assert response.json() == {"ok": False, "error": 'Method "GET" not allowed.'}


def raw_post(api, text: str, **headers):
    return api.generic("POST", "/api/events", text, content_type="application/json", **headers)


GOOD = json.dumps(reading(0))


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ('{"channel":"nan","value":NaN}', body_errors.BODY_NOT_FINITE),
        ('{"channel":"inf","value":-Infinity}', body_errors.BODY_NOT_FINITE),
        ('{"channel":"big","value":1e400}', body_errors.BODY_NOT_FINITE),
        ('{"channel":"ts","state":"ON","ts":1e400}', body_errors.BODY_NOT_FINITE),
        ('{"channel":"long","value":' + "9" * 5000 + "}",
         body_errors.BODY_NUMBER_TOO_LONG.format(limit=4300)),
        ('{"channel":"pump","state":"ON","state":"OFF"}',
         body_errors.BODY_DUPLICATE_KEY.format(key="state")),
        ('{"channel":"deep","state":"ON","x":{"y":[NaN]}}', body_errors.BODY_NOT_FINITE),
        ("NaN", body_errors.BODY_NOT_FINITE),
    ],
)  # fmt: skip
def test_nan_or_a_duplicate_key_in_one_event_rejects_that_event_alone(
    api, device, device_key, event, error
):
    response = raw_post(api, f'{{"events":[{event},{GOOD}]}}', **key_header(device_key))

    body = response.json()
    assert response.status_code == 200
    assert body["results"] == [
        {"index": 0, "result": "rejected", "error": error},
        {"index": 1, "result": "stored", "error": None},
    ]
    assert (body["stored"], body["rejected"]) == (1, 1)
    assert stored(device) == [("temperature", T0, None, 20.0)]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (f'{{"events":[{GOOD}],"events":[{GOOD}]}}',
         body_errors.BODY_DUPLICATE_KEY.format(key="events")),
        (f'{{"deviceId":"esp32-01","deviceId":"esp32-02","events":[{GOOD}]}}',
         body_errors.BODY_DUPLICATE_KEY.format(key="deviceId")),
        (f'{{"events":[{GOOD}],"note":NaN}}', body_errors.BODY_NOT_FINITE),
        (f'{{"events":[{GOOD}],"note":{{"a":1,"a":2}}}}',
         body_errors.BODY_DUPLICATE_KEY.format(key="a")),
        ('{"events":NaN}', body_errors.BODY_NOT_FINITE),
        ("NaN", body_errors.BODY_NOT_FINITE),
    ],
)  # fmt: skip
def test_nan_or_a_duplicate_key_in_the_envelope_is_400(api, device, device_key, text, error):
    response = raw_post(api, text, **key_header(device_key))

    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": error}
    assert stored(device) == []
