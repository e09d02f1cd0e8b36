"""In-process diagnosis: where one request's time goes (SQL and commits vs the rest),
through Django's test client, one request at a time, in the driver's own process."""

from __future__ import annotations

import cProfile
import json
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Split:
    """Per-request averages over `requests` requests."""

    name: str
    requests: int = 0
    wall_s: float = 0.0
    sql_s: float = 0.0
    commit_s: float = 0.0
    redis_s: float = 0.0
    queries: int = 0
    commits: int = 0
    redis_calls: int = 0
    statements: list[str] = field(default_factory=list)  # of the last request

    def per_request(self, total: float) -> float:
        return total / self.requests * 1000 if self.requests else 0.0

    def row(self) -> list[str]:
        wall, sql, commit, cache = (
            self.per_request(x) for x in (self.wall_s, self.sql_s, self.commit_s, self.redis_s)
        )
        rest = wall - sql - commit - cache
        return [
            self.name,
            f"{wall:.2f}",
            f"{self.queries / self.requests:.1f}",
            f"{sql:.2f}",
            f"{self.commits / self.requests:.1f}",
            f"{commit:.2f}",
            f"{self.redis_calls / self.requests:.1f}",
            f"{cache:.2f}",
            f"{rest:.2f} ({rest / wall:.0%})" if wall else "-",
        ]


@contextmanager
def timed(split: Split):
    """Time every statement and commit on the default connection, and every Redis command,
    while inside (this process only: the app's code is not changed)."""
    original_commit = connection._commit
    original_redis = redis.Redis.execute_command
    last: list[str] = []

    def wrapper(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            split.sql_s += time.perf_counter() - began
            split.queries += 1
            last.append(" ".join(str(sql).split())[:110])

    def commit():
        began = time.perf_counter()
        try:
            return original_commit()
        finally:
            split.commit_s += time.perf_counter() - began
            split.commits += 1

    def redis_command(self, *args, **options):
        began = time.perf_counter()
        try:
            return original_redis(self, *args, **options)
        finally:
            split.redis_s += time.perf_counter() - began
            split.redis_calls += 1

    connection._commit = commit
    redis.Redis.execute_command = redis_command
    try:
        with connection.execute_wrapper(wrapper):
            yield last
    finally:
        del connection._commit
        redis.Redis.execute_command = original_redis


def measure(name: str, calls: list[Callable[[Client], object]]) -> Split:
    """Run each call (one request), timed."""
    client, split = Client(), Split(name)
    for call in calls:
        with timed(split) as statements:
            statements.clear()
            began = time.perf_counter()
            response = call(client)
            split.wall_s += time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:200]!r}")
        split.requests += 1
        split.statements = list(statements)
    return split


def post(path: str, body: dict, key: str | None) -> Callable[[Client], object]:
    headers = {"HTTP_X_API_KEY": key} if key else {}
    data = json.dumps(body)
    return lambda client: client.post(path, data, content_type="application/json", **headers)


def get(path: str, key: str) -> Callable[[Client], object]:
    return lambda client: client.get(path, HTTP_X_API_KEY=key)


def _package(filename: str) -> str:
    """The top-level package a function's file belongs to ("~" is a builtin)."""
    if filename == "~" or filename.startswith("<"):
        return "builtins (C: I/O waits, json, …)"
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].split(".")[0]
    if ROOT in path.parents:
        return path.relative_to(ROOT).parts[0] + "/ (ours)"
    return "python stdlib"


def by_package(name: str, calls: list[Callable[[Client], object]], top: int = 6) -> str:
    """Run the calls under cProfile; each package's own time per request, biggest first."""
    client, profiler = Client(), cProfile.Profile()
    profiler.enable()
    for call in calls:
        call(client)
    profiler.disable()
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        totals[_package(filename)] += own
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    spent = sum(totals.values())
    parts = [
        f"{package} {own / len(calls) * 1000:.2f} ms ({own / spent:.0%})" for package, own in ranked
    ]
    return f"{name}: " + ", ".join(parts)
