"""The table and the notes, printed and written to docs/PERFORMANCE.md."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection
from django_redis import get_redis_connection

from bench import procs
from bench.report import HEADER, Row, markdown, plain

SPLIT_HEADER = [
    "request (in-process, one at a time)",
    "wall ms",
    "queries",
    "SQL ms",
    "commits",
    "commit ms",
    "Redis calls",
    "Redis ms",
    "the rest (Python) ms",
]


def _machine(bench) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    redis = get_redis_connection("default").info()["redis_version"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH)
        cwd=procs.ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; RAM {mem_kib / 1024 / 1024:.1f} GiB",
        f"PostgreSQL {pg} (shared_buffers {buffers}), Redis {redis}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code at commit {commit}",
        "Load average (1, 5, 15 min) at start {} and at the end {}: the machine is shared,"
        " so absolute figures move with it (the two sides of each ratio ran alternately or"
        " back to back, so both see much the same load)".format(
            *("/".join(load) for load in bench.r.load_average)
        ),
    ]


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _runs(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


def rows(bench) -> list[Row]:
    r, c = bench.r, bench.c
    out = [
        Row(
            "1. single-event ingest (stored only)",
            f"{r.single.stored_per_s:,.0f} req/s ({r.single.limited} x 429, "
            f"{r.single.other} other; wrk CPU {r.single.wrk_cpu_share:.0%} of a core;"
            f" runs: {_runs(r.single_rounds['app'])})",
            f"bare Django JSON view: {r.bare.stored_per_s:,.0f} req/s "
            f"(wrk CPU {r.bare.wrk_cpu_share:.0%}; runs: {_runs(r.single_rounds['bare'])})",
            r.single.stored_per_s / r.bare.stored_per_s,
            ">= 0.5x",
        ),
    ]
    copy_rate = r.copy_rows / r.copy_s if r.copy_s else 0
    out += [
        Row(
            f"2. batch ingest ({c.batch} events a request)",
            f"{r.batch.stored_per_s:,.0f} events/s ({r.batch.limited} x 429, "
            f"{r.batch.other} other; wrk CPU {r.batch.wrk_cpu_share:.0%})",
            f"psycopg COPY, {c.batch} rows a commit: {copy_rate:,.0f} rows/s",
            r.batch.stored_per_s / copy_rate if copy_rate else None,
            ">= 0.35x",
        ),
        Row(
            "2b. batch ingest, absolute",
            f"{r.batch.stored_per_s:,.0f} events/s",
            "the issue's floor: 20,000 events/s",
            r.batch.stored_per_s / 20000,
            ">= 1x",
        ),
    ]
    sizes = {size: count for size, (count, _) in r.loads.items()}
    labels = {"raw24h": "24h raw, busy device", "day365": "1 year daily, busy device"}
    for name, label in labels.items():
        app, bare = r.history[("large", name, "app")], r.history[("large", name, "bare")]
        small = r.history[("small", name, "app")]
        small_bare = r.history[("small", name, "bare")]
        out += [
            Row(
                f"3. history {label}, p50 @ {sizes['large']:,} events",
                _ms(app.p50_ms),
                f"same SQL, bare view: {_ms(bare.p50_ms)}",
                app.p50_ms / bare.p50_ms,
            ),
            Row(
                f"3. history {label}, p95 @ {sizes['large']:,} events",
                _ms(app.p95_ms),
                f"same SQL, bare view: {_ms(bare.p95_ms)}",
                app.p95_ms / bare.p95_ms,
                "<= 1.5x",
            ),
            Row(
                f"3. history {label}, p95 @ {sizes['large']:,} vs @ {sizes['small']:,}",
                _ms(app.p95_ms),
                f"@ {sizes['small']:,}: {_ms(small.p95_ms)} (p50 {_ms(small.p50_ms)};"
                f" bare p95 {_ms(small_bare.p95_ms)})",
                app.p95_ms / small.p95_ms,
                "<= 1.2x",
            ),
        ]
    p = r.purge
    how = "partition drop + batches" if p["partitioned"] else "batched DELETE (no partitions)"
    out.append(
        Row(
            f"4. purge of {p['expired']:,} expired events (60 days), events_purge: {how}",
            f"{_seconds(p['s'])} removing rows"
            + (
                f" (EXTRAPOLATED: cut after {bench.c.purge_budget} s with {p['left']:,} left)"
                if p["cut"]
                else ""
            )
            + f"; + {_seconds(p['rollup_s'])} in the rollup_run it starts with",
            f"one DELETE of the same {p['again']:,} rows: {_seconds(p['delete_s'])}",
            p["delete_s"] / p["s"] if p["s"] else None,
            ">= 100x",
        )
    )
    ro = r.rollup
    out.append(
        Row(
            f"5. rollup of {ro['devices']:,} devices' last hour ({ro['events']:,} events),"
            " rollup_run",
            _seconds(ro["s"]),
            f"INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE: {_seconds(ro['baseline_s'])}",
            ro["s"] / ro["baseline_s"],
            "<= 1.5x",
        )
    )
    m = r.memory
    django_mib = m["django"] / 1024
    out += [
        Row(
            "6. peak RSS, web worker (after every run above)",
            f"{m['web'] / 1024:.0f} MiB",
            f"Python with Django and the app imported: {django_mib:.0f} MiB",
            m["web"] / m["django"],
        ),
        Row(
            f"6. peak RSS, Celery worker (one rollup task, {m['celery_task']})",
            f"{m['celery'] / 1024:.0f} MiB",
            f"the same: {django_mib:.0f} MiB",
            m["celery"] / m["django"],
        ),
    ]
    return out


def _server_cpu(bench) -> list[str]:
    lines = []
    for label, result in (
        ("bare view", bench.r.bare),
        ("single event", bench.r.single),
        ("batch", bench.r.batch),
    ):
        per = result.requests or 1
        lines.append(
            f"- {label}: {result.requests / result.seconds:,.0f} req/s; per request "
            f"{result.server_cpu_s / per * 1000:.2f} ms CPU in gunicorn workers, "
            f"{result.db_cpu_s / per * 1000:.2f} ms CPU in this database's PostgreSQL backends; "
            f"p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms; "
            f"load generator {result.wrk_cpu_s:.2f} s CPU over {result.seconds:.1f} s"
        )
    return lines


def report(bench) -> None:
    c, r = bench.c, bench.r
    table = rows(bench)
    cells = [row.cells() for row in table]
    print("\n" + plain(HEADER, cells) + "\n", flush=True)
    kind = "QUICK RUN (development figures, not the acceptance run)" if c.quick else "full run"
    settings = (
        f"gunicorn {c.workers} workers x {c.threads} threads (gthread), wrk 1 thread, "
        f"{c.connections} connections for writes and {c.history_connections} for history, "
        f"{c.rounds} rounds of {c.seconds} s runs alternating app and baseline, after"
        f" {c.warmup} s warm-ups; {c.devices} devices each with its "
        f"own key, tenant write rate 5/5s per device (the default; rate limits on); "
        f"BENCH_EVENTS={c.events:,}, BENCH_SMALL={c.small:,}; DEBUG off, persistent connections"
    )
    missed = [f"{row.measure}: {row.verdict}" for row in table if row.verdict.startswith("MISSED")]
    p, ro = r.purge, r.rollup
    parts = [
        "# Performance",
        "",
        f"Produced by `bench/run{' --quick' if c.quick else ''}`; do not edit by hand. **{kind}.**",
        "",
        *[f"- {line}" for line in _machine(bench)],
        f"- Settings: {settings}",
        "",
        markdown(HEADER, cells),
        "",
        "## Targets missed" if missed else "## Targets",
        "",
        *([f"- {line}" for line in missed] or ["- every target met"]),
        "",
        "## How each figure was taken",
        "",
        "- Every figure and its baseline come from this run, on this machine, through the same"
        " gunicorn (settings `bench.settings` = the app's settings with two bare views added"
        " to the URLs) and the same throw-away PostgreSQL database and Redis database.",
        "- 1: `wrk` with `bench/lua/single.lua` posts `{channel, value, ts}` cycling through"
        " every device's key, each request with a ts no other uses; only answers saying"
        " `stored` count. The bare view parses the same bodies and answers without touching"
        " the database or the cache.",
        f"- 2: `bench/lua/batch.lua` posts {c.batch} events of one device per request, cycling"
        " devices; events answered `stored` count. Baseline: those very rows are taken out"
        f" again and written back with psycopg `COPY`, {c.batch} rows per transaction (one"
        " commit, like one request), over one connection.",
        "- 3: p50/p95 from wrk's latency histogram (the median over the rounds) at"
        f" {c.history_connections} connections, for the busy device's key. The bare view runs"
        " the SQL statements the history selector ran for the same request (captured once),"
        " without authentication, and answers the rows as JSON. Sizes: small load, then the"
        " large load added to it (same busy device rows, re-inserted among the new rows).",
        *[f"  - {note}" for note in r.notes],
        f"- Data: loaded with SQL (`bench/load.py`): {r.loads['small'][0]:,} events in"
        f" {r.loads['small'][1]:.1f} s, then {r.loads['large'][0]:,} in"
        f" {r.loads['large'][1]:.0f} s including rollups and VACUUM ANALYZE. The busy device"
        " reports temperature every 30 s and pump ON/OFF every 15 min over the last 36 h;"
        " its 400 earlier days of daily rollups are made up in SQL and its real ones computed"
        " by `rollup_rebuild`; the other devices' hour/day rollups are made in SQL (not by"
        " rollup_run, which would take too long on the whole table).",
        "- 4: events_purge(now=T0) with PURGE_GRACE_SECONDS=0; the ratio compares its removal"
        " of rows with the DELETE: the rollup_run it starts with (the last arrivals) is timed"
        f" apart; table partitioned: {'yes' if p['partitioned'] else 'no'}"
        f" (children before/after: {p['children'][0]}/{p['children'][1]}); {p['left']:,}"
        " expired rows left after it (BENCH_PURGE_BUDGET stops it and extrapolates its"
        " removal rate when it runs longer). Then the same rows were inserted again and VACUUM"
        " ANALYZE run, and one `DELETE … WHERE ts < cutoff` timed.",
        f"- 5: `rollup_run(now=T0)` with its cursor set so that it picks up the last hour's"
        f" arrivals ({ro['channels']:,} channels; rows written per period: {ro['by_period']})."
        " It recomputes each touched hour and the whole local day around it from raw events;"
        " the baseline only groups the hour. Baseline timed on its second run (rows exist,"
        " so it updates like the job's upsert); the first took"
        f" {_seconds(ro['baseline_first_s'])}.",
        "- 6: VmHWM from /proc; the Celery worker runs `--concurrency=1` (prefork) and gets one"
        " `events.tasks.rollup` over Redis after the ingest runs (the highest of its processes).",
        "",
        "## Where the time goes",
        "",
        "Server CPU during the wrk runs (from /proc; PostgreSQL counts only this database's"
        " backends, wall-clock waits such as the WAL flush at commit are not CPU):",
        "",
        *_server_cpu(bench),
        "",
        "One request at a time through Django's test client in the driver's process"
        " (no HTTP, no concurrency); SQL and commits timed at the connection:",
        "",
        markdown(SPLIT_HEADER, [split.row() for split in r.splits]),
        "",
        "The jobs, run once each in the driver's process (same columns, for the whole run):",
        "",
        markdown(SPLIT_HEADER, [r.rollup["split"].row(), r.purge["split"].row()]),
        "",
        "Own time per package under cProfile, per request (the profiler slows everything, so"
        " read the shares):",
        "",
        *[f"- {line}" for line in r.packages],
        "",
        "Statements of one single-event request:",
        "",
        *[f"{n}. `{sql}`" for n, sql in enumerate(r.splits[1].statements, 1)],
        "",
    ]
    c.out.parent.mkdir(parents=True, exist_ok=True)
    c.out.write_text("\n".join(parts))
    print(f"written to {c.out}", flush=True)
