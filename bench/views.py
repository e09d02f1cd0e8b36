"""Bare baselines: what Django costs with no framework on top and no work of ours.

Unauthenticated on purpose: they exist only in the benchmark's URLconf, on the
throw-away server `bench/run` binds to the loopback address.
"""

from __future__ import annotations

import json
import os
from functools import cache

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_event(request: HttpRequest) -> JsonResponse:
    """Parse the posted JSON and answer like a stored event: no database, no cache."""
    body = json.loads(request.body)
    return JsonResponse({"ok": True, "result": "stored", "channel": body.get("channel")})


@cache
def _statements() -> dict[str, list[str]]:
    """The SQL the history selector ran for each measured request (written by the driver)."""
    with open(os.environ["BENCH_SQL_FILE"]) as handle:
        return json.load(handle)


def bare_sql(request: HttpRequest, name: str) -> HttpResponse:
    """Run the same SQL as the app's history request and answer its rows as JSON."""
    results = []
    with connection.cursor() as cursor:
        for sql in _statements()[name]:
            cursor.execute(sql)
            results.append(cursor.fetchall())
    body = json.dumps({"ok": True, "results": results}, cls=DjangoJSONEncoder)
    return HttpResponse(body, content_type="application/json")
