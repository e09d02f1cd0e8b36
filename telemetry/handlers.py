"""One error shape for the whole API: {"ok": false, "error": "<what is wrong>"}; the
pages' answers to the same errors."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from telemetry.errors import DomainError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "1"
CACHE_RETRY_AFTER_SECONDS = "5"
DATABASE_BUSY = "the database is busy; retry shortly"
DATABASE_DOWN = "the database is unavailable; retry shortly"
CACHE_DOWN = "the cache (rate limits) is unavailable; retry shortly"
NOT_FOUND = "not found"
METHOD_NOT_ALLOWED = 'Method "{method}" not allowed.'  # DRF's words, as on the API
SERVER_ERROR = "internal server error"
# What a cache outage raises: django-redis's wrapper, or the client's own (raw commands).
CACHE_ERRORS = (ConnectionInterrupted, RedisError)


def error_body(message: str) -> dict:
    return {"ok": False, "error": message}


def _flatten(detail: object) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _flatten(value)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return "; ".join(_flatten(item) for item in detail)
    return str(detail)


def _is_locked(exc: OperationalError) -> bool:
    # SQLite's busy timeout ran out; PostgreSQL never raises this message.
    return "locked" in str(exc).lower()


def _unavailable(exc: Exception) -> tuple[str, str] | None:
    """For a dependency briefly unavailable, what a 503 says and its Retry-After."""
    if isinstance(exc, OperationalError):
        # SQLite's lock clears in a moment; otherwise the server is down, restarting,
        # out of connections or timed a statement out.
        logger.warning("database unavailable: answering 503 (%s)", exc)
        return (DATABASE_BUSY, RETRY_AFTER_SECONDS) if _is_locked(exc) else (
            DATABASE_DOWN, CACHE_RETRY_AFTER_SECONDS
        )  # fmt: skip
    if isinstance(exc, CACHE_ERRORS):
        # Fail closed: without the shared counters no write rate can be enforced.
        logger.warning("cache unavailable: answering 503 (%s)", type(exc).__name__)
        return CACHE_DOWN, CACHE_RETRY_AFTER_SECONDS
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, Http404):
        return Response(error_body(str(exc) or NOT_FOUND), status=404)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if (unavailable := _unavailable(exc)) is not None:
        message, retry_after = unavailable
        return Response(error_body(message), status=503, headers={"Retry-After": retry_after})
    response = exception_handler(exc, context)
    if response is not None:
        response.data = error_body(_flatten(response.data.get("detail", response.data)))
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("bad request"), status=400)
    return defaults.bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(NOT_FOUND), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(SERVER_ERROR), status=500)
    return defaults.server_error(request)


class DependencyDownPageMiddleware:
    """Pages answer a database or cache outage as the API does, 503 with Retry-After, not
    500 (the login pages count failures in the cache). API paths keep their own answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if _wants_json(request) or (unavailable := _unavailable(exc)) is None:
            return None
        message, retry_after = unavailable
        # No request context: a context processor must not touch what is down.
        page = loader.render_to_string("503.html", {"message": message})
        return HttpResponse(page, status=503, headers={"Retry-After": retry_after})
