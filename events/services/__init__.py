"""Writes for events: ingest, rollups and retention."""

from __future__ import annotations

from events.services.ingest import (
    IngestResult,
    Outcome,
    event_ingest,
    events_ingest_batch,
    write_quota_take,
    write_window,
)

__all__ = [
    "IngestResult",
    "Outcome",
    "event_ingest",
    "events_ingest_batch",
    "write_quota_take",
    "write_window",
]
