"""JSON endpoints: the legacy /api/event and /api/history, kept byte-compatible."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import client_ip
from devices.auth import key_admit
from devices.models import Device
from devices.selectors import device_for_caller
from events.renderers import history_csv, history_csv_filename, history_json
from events.selectors import history_read
from events.serializers import (
    EventSubmission,
    parse_batch_body,
    parse_event_body,
    parse_history_query,
)
from events.services import (
    IngestResult,
    event_ingest,
    events_ingest_batch,
    write_quota_take,
    write_window,
)
from telemetry import openapi
from telemetry.api import JsonApiView
from telemetry.errors import DomainError
from telemetry.jsonbody import read_json_object


def _submission(request: HttpRequest | Request, *, now: datetime) -> EventSubmission:
    body = read_json_object(request, max_bytes=settings.EVENT_MAX_BODY_BYTES)
    return parse_event_body(body, now=now)


def _stored(submission: EventSubmission, device: Device, result: IngestResult) -> dict:
    return {
        "ok": True,
        "result": result,
        "inserted": submission.echo(device.device_id),
        "meta": {"success": True},
    }


class EventView(JsonApiView):
    http_method_names = ["post", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Devices post here all day: their posts skip DRF's machinery (same answers).
        by_key = request.method == "POST" and "HTTP_X_API_KEY" in request.META
        if by_key and self.answers_plain_json(request):
            return self.answer_directly(request, self.post_with_key)
        return super().dispatch(request, *args, **kwargs)

    @openapi.event_post
    def post(self, request: Request) -> Response:
        now = timezone.now()
        submission = _submission(request, now=now)
        device = device_for_caller(caller=request.user, device_id=submission.device_id, write=True)
        quota = write_quota_take(device=device)
        result = event_ingest(device=device, reading=submission.reading, received_at=now)
        return Response(_stored(submission, device, result), headers=quota.headers())

    def post_with_key(self, request: HttpRequest) -> tuple[dict, dict[str, str]]:
        """`post` for a device key, admitted in one round trip to the cache: the body is
        read first so that the write can be counted there too, but its errors come after
        the key's, as in `post`."""
        now = timezone.now()
        try:
            submission, refusal = _submission(request, now=now), None
        except DomainError as exc:
            submission, refusal = None, exc
        admission = key_admit(
            raw_key=request.META["HTTP_X_API_KEY"].strip(),
            ip=client_ip(request),
            writes=write_window if submission else None,
            device_id=submission.device_id if submission else None,
        )
        if refusal is not None:
            raise refusal
        caller = admission.caller
        device = device_for_caller(caller=caller, device_id=submission.device_id, write=True)
        quota = write_quota_take(device=device, counted=admission.write)
        result = event_ingest(
            device=device,
            reading=submission.reading,
            received_at=now,
            seen_due=admission.seen_due,
        )
        return _stored(submission, device, result), quota.headers()


class BatchView(JsonApiView):
    """Up to 1000 events of one device, e.g. its buffer after an outage: one write."""

    http_method_names = ["post", "options"]

    @openapi.events_post
    def post(self, request: Request) -> Response:
        now = timezone.now()
        # Lenient: NaN or a duplicate key inside one event rejects that event only.
        body = read_json_object(request, max_bytes=settings.BATCH_MAX_BODY_BYTES, strict=False)
        batch = parse_batch_body(body, now=now)
        device = device_for_caller(caller=request.user, device_id=batch.device_id, write=True)
        quota = write_quota_take(device=device)
        outcomes = events_ingest_batch(device=device, items=batch.items, received_at=now)
        totals = {result.value: 0 for result in IngestResult}
        for outcome in outcomes:
            totals[outcome.result] += 1
        results = [
            {"index": index, "result": outcome.result, "error": outcome.error}
            for index, outcome in enumerate(outcomes)
        ]
        answer = {"ok": True, "deviceId": device.device_id, **totals, "results": results}
        return Response(answer, headers=quota.headers())


@method_decorator(gzip_page, name="dispatch")  # long answers; nothing secret to leak (BREACH)
class HistoryView(JsonApiView):
    http_method_names = ["get", "head", "options"]

    @openapi.history_get
    def get(self, request: Request) -> Response:
        now = timezone.now()
        query = parse_history_query(request.query_params, now=now)
        device = device_for_caller(caller=request.user, device_id=query.device_id, write=False)
        history = history_read(
            device=device,
            start=query.start,
            end=query.end,
            channel=query.channel,
            limit=query.limit,
            resolution=query.resolution,
            now=now,
        )
        if query.output == "csv":
            filename = history_csv_filename(query=query, device=device, history=history)
            return HttpResponse(
                history_csv(device=device, history=history),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response(history_json(query=query, device=device, history=history))
