"""GET /healthz: are the database, the cache and the broker reachable? (public on purpose)"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from telemetry.celery import app as celery_app
from telemetry.handlers import METHOD_NOT_ALLOWED, error_body

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=10)
    if cache.get(key) != 1:
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _broker() -> None:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


# Exempt, so a POST gets our JSON 405 rather than Django's HTML CSRF 403: it changes nothing.
@csrf_exempt
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; 503 naming the ones that do not."""
    if request.method not in ("GET", "HEAD"):
        body = error_body(METHOD_NOT_ALLOWED.format(method=request.method))
        return JsonResponse(body, status=405, headers={"Allow": "GET, HEAD"})
    checks, down = {}, []
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # any failure means "unreachable"
            logger.warning("healthz: %s unreachable: %s", name, type(exc).__name__)
            checks[name] = "unreachable"
            down.append(name)
    if down:
        error = f"unreachable: {', '.join(down)}"
        response = JsonResponse({"ok": False, "error": error, "checks": checks}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"ok": True, "checks": checks})


class HealthzFirstMiddleware:
    """/healthz answered before every other middleware: a load balancer's or an
    orchestrator's probe names the target's own address as Host (not an allowed host)
    and checks over plain HTTP (no redirect to HTTPS)."""

    PATHS = frozenset({"/healthz", "/healthz/"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in self.PATHS:
            return healthz(request)
        return self.get_response(request)
