"""History answers: the JSON envelope, and CSV of the same items in the tenant's zone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from devices.models import Device
from events.selectors import History
from events.serializers import HistoryQuery, to_epoch_ms

BUCKET_COLUMNS = ["date", "time_zone", "count", "changes", "known_seconds", "last_state"]
NUMERIC_COLUMNS = ["min", "max", "mean", "twa", "sum", "last_value"]


def history_json(*, query: HistoryQuery, device: Device, history: History) -> dict:
    answer = {
        "ok": True,
        "deviceId": device.device_id,
        "range": query.range_label,
        "sinceTs": to_epoch_ms(query.start),
        "untilTs": to_epoch_ms(query.end) if query.end else None,
        "resolution": history.resolution,
        "count": len(history.items),
        "items": history.items,
    }
    if history.before is not None:
        answer["before"] = history.before
    return answer


def _local(epoch_ms: int, zone: ZoneInfo) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).astimezone(zone)
    return moment.isoformat(timespec="milliseconds")


def _raw_rows(history: History, zone: ZoneInfo) -> list[list]:
    header = ["time", "epoch_ms", "channel", "state", "value", "carried_in"]
    rows = [header]
    for carried_in, items in (("yes", history.before or []), ("", history.items)):
        for item in items:
            rows.append(
                [
                    _local(item["ts"], zone),
                    item["ts"],
                    item["channel"],
                    item.get("state", ""),
                    item.get("value", ""),
                    carried_in,
                ]
            )
    return rows


def _bucket_rows(history: History, zone: ZoneInfo) -> list[list]:
    states = sorted({state for item in history.items for state in item.get("state_seconds", {})})
    header = [
        "bucket_start",
        "epoch_ms",
        "bucket_seconds",
        "channel",
        *BUCKET_COLUMNS,
        *(f"seconds_{state}" for state in states),
        *NUMERIC_COLUMNS,
    ]
    rows = [header]
    for item in history.items:
        seconds = item.get("state_seconds", {})
        rows.append(
            [
                _local(item["ts"], zone),
                item["ts"],
                item["bucket_seconds"],
                item["channel"],
                *(_cell(item.get(column)) for column in BUCKET_COLUMNS),
                *(_cell(seconds.get(state, 0 if seconds else None)) for state in states),
                *(_cell(item.get(column)) for column in NUMERIC_COLUMNS),
            ]
        )
    return rows


def _cell(value: object) -> object:
    return "" if value is None else value


def history_csv(*, device: Device, history: History) -> str:
    """The same items as the JSON answer, one row each, times in the tenant's zone."""
    zone = ZoneInfo(device.tenant.time_zone)
    rows = _raw_rows(history, zone) if history.resolution == "raw" else _bucket_rows(history, zone)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def history_csv_filename(*, query: HistoryQuery, device: Device, history: History) -> str:
    start = query.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{device.device_id}-{start}-{history.resolution}.csv"
