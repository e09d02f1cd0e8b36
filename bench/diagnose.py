"""Where a request's time goes, measured in the driver's process (see bench/profile.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench import profile
from bench.profile import Split


def _event(ts: datetime, n: int) -> dict:
    return {"channel": "temperature", "value": 20 + n % 50 / 10, "ts": int(ts.timestamp() * 1000)}


def splits(bench, urls: dict[str, str]) -> list[Split]:
    """Bare view, single event, batch and both history reads: per-request averages."""
    now = datetime.now(UTC)
    keys = bench.keys
    single = [
        profile.post("/api/event", _event(now - timedelta(minutes=30, milliseconds=-n), n), key)
        for n, key in enumerate(keys[-201:])
    ]
    batch = [
        profile.post(
            "/api/events",
            {
                "events": [
                    _event(now - timedelta(days=3, seconds=n * 1000 + i), i)
                    for i in range(bench.c.batch)
                ]
            },
            key,
        )
        for n, key in enumerate(keys[-232:-221])
    ]
    bare = [profile.post("/bench/bare-event", _event(now, n), None) for n in range(101)]
    kinds = {
        "bare JSON view (POST)": bare,
        "single event POST /api/event": single,
        f"batch of {bench.c.batch} POST /api/events": batch,
        **{
            label: [profile.get(path, bench.busy_key)] * 21
            for name, url in urls.items()
            for label, path in (
                (f"history {name} GET", url),
                (f"bare SQL view, {name}", f"/bench/bare-sql/{name}"),
            )
        },
    }
    results = []
    for name, calls in kinds.items():
        profile.measure(name, calls[:1])  # the first request loads views and fills caches
        results.append(profile.measure(name, calls[1:]))
    return results


def packages(bench, urls: dict[str, str]) -> list[str]:
    """Own time per package under cProfile (slower than real, so only the shares matter)."""
    now = datetime.now(UTC)
    single = [
        profile.post("/api/event", _event(now - timedelta(minutes=40, milliseconds=-n), n), key)
        for n, key in enumerate(bench.keys[-402:-201])
    ]
    batch = [
        profile.post(
            "/api/events",
            {"events": [_event(now - timedelta(days=4, seconds=n * 1000 + i), i)
                        for i in range(bench.c.batch)]},
            key,
        )
        for n, key in enumerate(bench.keys[-243:-233])
    ]  # fmt: skip
    return [
        profile.by_package("single event", single),
        profile.by_package(f"batch of {bench.c.batch}", batch),
        *(profile.by_package(f"history {name}", [profile.get(url, bench.busy_key)] * 20)
          for name, url in urls.items()),
    ]  # fmt: skip
