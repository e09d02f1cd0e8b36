"""POST /api/event: the legacy body, the richer body, idempotency and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import errors
from events.models import Channel, Event
from testsupport import bearer, key_header

TS = 1704067200000  # 2024-01-01T00:00:00Z
LEGACY = {"deviceId": "esp32-01", "state": "ON", "ts": TS, "valveId": 1}


def post(api, body, **headers):
    return api.post("/api/event", body, format="json", **headers)


def rows(device):
    return list(
        Event.objects.filter(device=device)
        .order_by("ts", "channel")
        .values_list("channel", "state", "value")
    )


def test_it_stores_the_legacy_example_and_answers_the_legacy_shape(api, device, device_key):
    response = post(api, LEGACY, **key_header(device_key))

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "result": "stored",
        "inserted": {"deviceId": "esp32-01", "ts": TS, "state": "ON", "valveId": 1},
        "meta": {"success": True},
    }
    event = Event.objects.get(device=device)
    assert (event.channel, event.state, event.value) == ("valve1", "ON", None)
    assert event.ts == datetime(2024, 1, 1, tzinfo=UTC)


def test_it_accepts_the_path_with_a_trailing_slash(api, device, device_key):
    response = api.post("/api/event/", LEGACY, format="json", **key_header(device_key))

    assert response.status_code == 200
    assert rows(device) == [("valve1", "ON", None)]


def test_it_normalises_a_lowercase_state_with_spaces(api, device, device_key):
    response = post(api, {"state": "on ", "ts": TS}, **key_header(device_key))

    assert response.json()["inserted"]["state"] == "ON"
    assert rows(device) == [("valve1", "ON", None)]


def test_it_stores_valve_2_on_its_own_channel(api, device, device_key):
    post(api, {"state": "OFF", "ts": TS, "valveId": 2}, **key_header(device_key))

    assert rows(device) == [("valve2", "OFF", None)]


def test_a_missing_device_id_means_the_keys_device(api, device, device_key):
    response = post(api, {"state": "ON", "ts": TS}, **key_header(device_key))

    assert response.json()["inserted"]["deviceId"] == "esp32-01"
    assert rows(device) == [("valve1", "ON", None)]


def test_a_missing_ts_means_now(api, device, device_key):
    before = datetime.now(UTC)
    post(api, {"state": "ON"}, **key_header(device_key))

    event = Event.objects.get(device=device)
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= event.ts
    assert event.ts <= datetime.now(UTC)
    assert event.ts.microsecond % 1000 == 0


def test_a_body_without_content_type_is_read_as_json(api, device, device_key):
    response = api.generic(
        "POST",
        "/api/event",
        '{"state": "ON", "ts": 1704067200000}',
        content_type="",
        **key_header(device_key),
    )

    assert response.status_code == 200
    assert rows(device) == [("valve1", "ON", None)]


def test_a_retried_post_is_a_duplicate_and_stores_one_row(api, device, device_key):
    post(api, LEGACY, **key_header(device_key))
    response = post(api, LEGACY, **key_header(device_key))

    assert response.status_code == 200
    assert response.json()["result"] == "duplicate"
    assert rows(device) == [("valve1", "ON", None)]


def test_another_state_at_the_same_instant_is_a_conflict(api, device, device_key):
    post(api, LEGACY, **key_header(device_key))
    response = post(api, {**LEGACY, "state": "OFF"}, **key_header(device_key))

    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert "different reading" in response.json()["error"]
    assert rows(device) == [("valve1", "ON", None)]


def test_repeated_states_at_four_instants_store_four_rows(api, device, device_key):
    for offset, state in enumerate(["ON", "ON", "OFF", "ON"]):
        response = post(api, {"state": state, "ts": TS + offset * 1000}, **key_header(device_key))
        assert response.json()["result"] == "stored"

    assert [state for _, state, _ in rows(device)] == ["ON", "ON", "OFF", "ON"]


def test_the_richer_body_stores_a_numeric_value(api, device, device_key):
    body = {"channel": "temperature", "value": 24.5, "ts": "2024-01-01T01:00:00+01:00"}
    response = post(api, body, **key_header(device_key))

    assert response.json() == {
        "ok": True,
        "result": "stored",
        "inserted": {"deviceId": "esp32-01", "channel": "temperature", "ts": TS, "value": 24.5},
        "meta": {"success": True},
    }
    assert rows(device) == [("temperature", None, 24.5)]


def test_the_richer_body_keeps_a_mode_state_as_sent(api, device, device_key):
    post(api, {"channel": "valve", "state": "2", "ts": TS}, **key_header(device_key))
    post(api, {"channel": "light", "state": "dim", "ts": TS}, **key_header(device_key))

    assert rows(device) == [("light", "dim", None), ("valve", "2", None)]


def test_a_channels_first_event_fixes_its_kind(api, device, device_key):
    post(api, {"channel": "temperature", "value": 21, "ts": TS}, **key_header(device_key))
    response = post(
        api, {"channel": "temperature", "state": "ON", "ts": TS + 1}, **key_header(device_key)
    )

    assert response.status_code == 409
    assert response.json()["error"] == errors.KIND_MISMATCH.format(
        channel="temperature", kind="numeric", other="state"
    )
    assert rows(device) == [("temperature", None, 21.0)]


def test_the_current_state_follows_the_newest_event_only(api, device, device_key):
    for ts, state in [(TS + 2000, "OFF"), (TS, "ON")]:  # the late one is older
        post(api, {"channel": "pump", "state": state, "ts": ts}, **key_header(device_key))

    channel = Channel.objects.get(device=device, name="pump")
    assert (channel.kind, channel.last_state) == ("state", "OFF")
    assert channel.last_ts == datetime(2024, 1, 1, 0, 0, 2, tzinfo=UTC)


def test_a_user_of_the_tenant_may_post_for_a_named_device(api, device, alice):
    response = post(api, LEGACY, **bearer(alice))

    assert response.status_code == 200
    assert rows(device) == [("valve1", "ON", None)]


def test_a_viewer_may_not_write(api, device, bob):
    response = post(api, LEGACY, **bearer(bob))

    assert response.status_code == 403
    assert response.json() == {"ok": False, "error": "viewers may read but not write"}
    assert rows(device) == []


def test_a_user_must_name_the_device(api, device, alice):
    response = post(api, {"state": "ON", "ts": TS}, **bearer(alice))

    assert response.status_code == 400
    assert "deviceId is required" in response.json()["error"]


def test_a_superuser_without_tenant_gets_403(api, device):
    from testsupport import make_user

    root = make_user(None, "root")
    response = post(api, LEGACY, **bearer(root))

    assert response.status_code == 403
    assert rows(device) == []


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_answer_405_with_or_without_credentials(api, device_key, method):
    for headers in ({}, key_header(device_key)):
        response = getattr(api, method)("/api/event", **headers)
        assert response.status_code == 405
        assert response.json()["ok"] is False


def test_the_ingest_path_makes_a_bounded_number_of_queries(
    api, device, device_key, django_assert_max_num_queries
):
    post(api, LEGACY, **key_header(device_key))  # creates the channel, notes last seen
    # key lookup, then the insert (PostgreSQL: with the current state in the same
    # statement; SQLite: the current state apart, inside BEGIN/COMMIT).
    with django_assert_max_num_queries(5):
        response = post(api, {**LEGACY, "ts": TS + 1}, **key_header(device_key))
    assert response.json()["result"] == "stored"


@pytest.mark.postgres
def test_on_postgresql_a_stored_event_is_one_statement_after_the_key_lookup(
    api, device, device_key, django_assert_num_queries, settings
):
    settings.KEY_CACHE_SECONDS = 0  # with Redis the lookup is cached: devices/tests
    post(api, LEGACY, **key_header(device_key))

    with django_assert_num_queries(2):
        response = post(api, {**LEGACY, "ts": TS + 1}, **key_header(device_key))

    assert response.json()["result"] == "stored"
    assert Channel.objects.get(device=device, name="valve1").last_ts.timestamp() * 1000 == TS + 1
