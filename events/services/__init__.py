"""Writes for events: ingest, rollups and retention."""

from __future__ import annotations

from events.services.ingest import IngestResult, event_ingest

__all__ = ["IngestResult", "event_ingest"]
