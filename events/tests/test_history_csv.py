"""GET /api/history?format=csv: the same items as JSON, times in the tenant's zone."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from events import errors
from events.serializers import Reading, to_epoch_ms
from events.services import event_ingest
from events.services.rollup import rollup_run
from testsupport import bearer, key_header

T = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)  # 10:50 in Madrid (+01:00)
WINDOW = {"from": to_epoch_ms(T - timedelta(minutes=50)), "to": to_epoch_ms(T + timedelta(hours=2))}


def post(device, ts, channel="pump", state=None, value=None):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def madrid_pump(device):
    device.tenant.time_zone = "Europe/Madrid"
    device.tenant.save(update_fields=["time_zone"])
    post(device, T - timedelta(hours=3), state="ON")  # carried into the window
    post(device, T, state="OFF")
    post(device, T + timedelta(minutes=20), channel="temperature", value=21.5)
    rollup_run()
    return device


def test_raw_csv_lists_the_carried_in_state_then_the_events(api, madrid_pump, device_key):
    response = api.get("/api/history", {**WINDOW, "format": "csv"}, **key_header(device_key))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="esp32-01-20260110T090000Z-raw.csv"'
    )
    assert rows(response) == [
        ["time", "epoch_ms", "channel", "state", "value", "carried_in"],
        ["2026-01-10T07:50:00.000+01:00", str(to_epoch_ms(T - timedelta(hours=3))), "pump",
         "ON", "", "yes"],
        ["2026-01-10T10:50:00.000+01:00", str(to_epoch_ms(T)), "pump", "OFF", "", ""],
        ["2026-01-10T11:10:00.000+01:00", str(to_epoch_ms(T + timedelta(minutes=20))),
         "temperature", "", "21.5", ""],
    ]  # fmt: skip


def test_hourly_csv_has_the_same_numbers_as_the_json(api, madrid_pump, device_key):
    params = {**WINDOW, "resolution": "hour", "channel": "pump"}
    answer = api.get("/api/history", params, **key_header(device_key)).json()
    response = api.get("/api/history", {**params, "format": "csv"}, **key_header(device_key))

    table = rows(response)
    assert table[0] == [
        "bucket_start", "epoch_ms", "bucket_seconds", "channel", "date", "time_zone", "count",
        "changes", "known_seconds", "last_state", "seconds_OFF", "seconds_ON", "min", "max",
        "mean", "twa", "sum", "last_value",
    ]  # fmt: skip
    first, second = table[1], table[2]
    assert first[:12] == [
        "2026-01-10T10:00:00.000+01:00", str(answer["items"][0]["ts"]), "3600", "pump", "", "",
        "1", "1", "3600", "OFF", "600", "3000",
    ]  # fmt: skip
    assert second[:12] == [
        "2026-01-10T11:00:00.000+01:00", str(answer["items"][1]["ts"]), "3600", "pump", "", "",
        "0", "0", "3600", "OFF", "3600", "0",
    ]  # fmt: skip
    assert len(table) - 1 == answer["count"]


def test_it_refuses_an_unknown_format_in_json(api, madrid_pump, device_key):
    response = api.get("/api/history", {**WINDOW, "format": "xml"}, **key_header(device_key))

    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": errors.FORMAT_INVALID}


def test_it_answers_404_for_another_tenants_device_in_csv_too(api, madrid_pump, charlie):
    params = {**WINDOW, "deviceId": "nope", "format": "csv"}
    missing = api.get("/api/history", params, **bearer(charlie))
    params["deviceId"] = "esp32-01"
    response = api.get("/api/history", params, **bearer(charlie))

    assert response.status_code == 404
    assert response.content == missing.content
    assert response.json()["ok"] is False


def test_it_needs_credentials_for_csv(api, madrid_pump):
    response = api.get("/api/history", {**WINDOW, "format": "csv"})

    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_daily_csv_names_each_days_date_and_zone(api, madrid_pump, device_key):
    params = {**WINDOW, "resolution": "day", "channel": "temperature", "format": "csv"}
    table = rows(api.get("/api/history", params, **key_header(device_key)))

    header, (day,) = table[0], table[1:]
    assert dict(zip(header, day, strict=True)) | {"epoch_ms": ""} == {
        "bucket_start": "2026-01-10T00:00:00.000+01:00", "epoch_ms": "", "bucket_seconds": "86400",
        "channel": "temperature", "date": "2026-01-10", "time_zone": "Europe/Madrid",
        "count": "1", "changes": "", "known_seconds": "", "last_state": "", "min": "21.5",
        "max": "21.5", "mean": "21.5", "twa": "21.5", "sum": "21.5", "last_value": "21.5",
    }  # fmt: skip


def test_history_is_compressed_for_clients_that_accept_it(api, madrid_pump, device_key):
    response = api.get(
        "/api/history", WINDOW, HTTP_ACCEPT_ENCODING="gzip", **key_header(device_key)
    )

    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["count"] == 2
