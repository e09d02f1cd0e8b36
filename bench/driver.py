"""The benchmark's phases, run by `bench/run` against a throw-away database (see README,
"Benchmark"). Prints one table and writes it to docs/PERFORMANCE.md."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

# No collectstatic for a benchmark: whitenoise's warning about it is noise here.
warnings.filterwarnings("ignore", message="No directory at")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import load, procs  # noqa: E402
from bench.procs import Started, WrkResult, log  # noqa: E402
from devices.services import device_register, key_create  # noqa: E402
from events.selectors import history_read  # noqa: E402
from events.services.rollup import rollup_rebuild  # noqa: E402
from testsupport import make_tenant  # noqa: E402


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Config:
    quick: bool = os.environ.get("BENCH_QUICK") == "1"
    events: int = env_int("BENCH_EVENTS", 1_000_000 if quick else 10_000_000)
    small: int = env_int("BENCH_SMALL", 10_000 if quick else 100_000)
    devices: int = env_int("BENCH_DEVICES", 1000)
    seconds: int = env_int("BENCH_SECONDS", 5 if quick else 15)
    warmup: int = env_int("BENCH_WARMUP", 1 if quick else 3)
    rounds: int = env_int("BENCH_ROUNDS", 2 if quick else 3)
    purge_budget: int = env_int("BENCH_PURGE_BUDGET", 300 if quick else 900)
    workers: int = env_int("WEB_WORKERS", 2)
    threads: int = env_int("WEB_THREADS", 4)
    connections: int = env_int("BENCH_CONNECTIONS", 0)
    history_connections: int = env_int("BENCH_HISTORY_CONNECTIONS", 4)
    batch: int = env_int("BENCH_BATCH", 1000)
    work: Path = Path(os.environ.get("BENCH_WORK", "/tmp/bench"))  # noqa: S108
    out: Path = Path(os.environ.get("BENCH_OUT", procs.ROOT / "docs" / "PERFORMANCE.md"))

    def __post_init__(self):
        self.connections = self.connections or 2 * self.workers * self.threads
        if self.devices < 500:  # the diagnosis posts with devices the wrk runs left alone
            raise SystemExit("BENCH_DEVICES must be at least 500 (the issue asks for 1,000)")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Results:
    history: dict = field(default_factory=dict)  # (size, name, "app"|"bare") -> WrkResult
    single: WrkResult | None = None
    bare: WrkResult | None = None
    batch: WrkResult | None = None
    copy_s: float = 0.0
    copy_rows: int = 0
    rollup: dict = field(default_factory=dict)
    purge: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    splits: list = field(default_factory=list)
    packages: list = field(default_factory=list)
    single_rounds: dict = field(default_factory=dict)  # stored/s of each run, per side
    loads: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    load_average: list = field(default_factory=list)  # /proc/loadavg at start and end


class Bench:
    def __init__(self, config: Config):
        self.c, self.r = config, Results()
        self.r.load_average.append(Path("/proc/loadavg").read_text().split()[:3])
        self.t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings")
        self.pids_file = config.work / "pids"
        self.started: list[Started] = []
        self.port = procs.free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    # --- set-up and data ----------------------------------------------------------------
    def setup(self) -> None:
        log("migrate")
        call_command("migrate", verbosity=0)
        self.partitioned = self._scalar(
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'events_event'::regclass"
        )
        log(f"tenant, {self.c.devices} devices and keys (key_create)")
        self.tenant = make_tenant("bench")
        keys = []
        with transaction.atomic():
            for index in range(self.c.devices):
                device = device_register(tenant=self.tenant, device_id=f"bench-{index:05d}")
                keys.append(key_create(device=device).raw_key)
                if index == 0:
                    self.busy, self.busy_key = device, keys[0]
        self.keys_file = self.c.work / "keys.txt"
        self.keys_file.write_text("\n".join(keys) + "\n")
        self.keys = keys
        self.plan = load.Plan.make(
            t0=self.t0,
            busy_id=self.busy.pk,
            others=self.c.devices - 1,
            large=self.c.events,
            small=self.c.small,
        )
        load.channels_create(self.plan, self.tenant.pk)

    def _scalar(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def count_events(self) -> int:
        return self._scalar("SELECT count(*) FROM events_event")

    def _partition_upkeep(self) -> None:
        """When the table is partitioned, let the app's own upkeep file rows into children."""
        if not self.partitioned:
            return
        from events.services import partitions  # only exists once partitioning lands

        report = partitions.partitions_maintain()
        log(f"   partitions_maintain: moved {report.moved:,} rows, created {len(report.created)}")

    def load_small(self) -> None:
        began = time.monotonic()
        log(f"load small: ~{self.c.small:,} events (stride {self.plan.stride})")
        load.load_small(self.plan, self.tenant.pk, lambda m: None)
        load.busy_rollups(self.plan)
        rollup_rebuild(tenant=self.tenant, device=self.busy)
        load.rollups_for_others(self.plan)
        load.channels_refresh()
        self._partition_upkeep()
        load.vacuum_analyze()
        self.r.loads["small"] = (self.count_events(), time.monotonic() - began)
        log(f"   {self.r.loads['small'][0]:,} events in {self.r.loads['small'][1]:.0f} s")

    def load_large(self) -> None:
        began = time.monotonic()
        log(f"load large: up to ~{self.c.events:,} events")
        load.load_large(self.plan, self.tenant.pk, log)
        log("   rollup rows for the other devices (SQL)")
        load.rollups_for_others(self.plan)
        load.channels_refresh()
        self._partition_upkeep()
        log("   VACUUM ANALYZE")
        load.vacuum_analyze()
        self.r.loads["large"] = (self.count_events(), time.monotonic() - began)
        log(f"   {self.r.loads['large'][0]:,} events in {self.r.loads['large'][1]:.0f} s")

    # --- the server --------------------------------------------------------------------
    def history_queries(self) -> dict[str, str]:
        """The history URLs measured, and the SQL the selector runs for each (for bare-sql)."""
        self.busy.refresh_from_db()
        windows = {
            "raw24h": (self.t0 - timedelta(hours=24), "raw"),
            "day365": (self.t0 - timedelta(days=365), "day"),
        }
        statements, urls = {}, {}
        for name, (start, resolution) in windows.items():
            with CaptureQueriesContext(connection) as captured:
                history = history_read(
                    device=self.busy,
                    start=start,
                    end=self.t0,
                    channel=None,
                    limit=5000,
                    resolution=resolution,
                    now=datetime.now(UTC),
                )
            statements[name] = [query["sql"] for query in captured.captured_queries]
            self.r.notes.append(
                f"history {name}: {len(history.items)} items, "
                f"{len(statements[name])} SQL statements in the selector"
            )
            urls[name] = (
                f"/api/history?deviceId={self.busy.device_id}&from={ms(start)}&to={ms(self.t0)}"
                f"&resolution={resolution}&limit=5000"
            )
        sql_file = self.c.work / "history-sql.json"
        sql_file.write_text(json.dumps(statements))
        self.env["BENCH_SQL_FILE"] = os.environ["BENCH_SQL_FILE"] = str(sql_file)
        return urls

    def start_web(self) -> None:
        env = dict(
            self.env,
            BIND=f"127.0.0.1:{self.port}",
            WEB_WORKERS=str(self.c.workers),
            WEB_THREADS=str(self.c.threads),
        )
        log(f"gunicorn: {self.c.workers} workers x {self.c.threads} threads on {self.base}")
        web = Started(
            "web",
            [str(procs.VENV_BIN / "gunicorn"), "bench.wsgi"],
            env=env,
            log=self.c.work / "gunicorn.log",
            pids_file=self.pids_file,
        )
        self.started.append(web)
        self.web = web
        procs.wait_http(f"{self.base}/healthz")

    def workers(self) -> list[int]:
        return procs.children(self.web.pid)

    def db_backends(self) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]

    def wrk(
        self,
        path: str,
        script: str,
        args: list[str],
        *,
        seconds: int,
        connections: int | None = None,
    ) -> WrkResult:
        return procs.wrk(
            self.base + path,
            script,
            args,
            seconds=seconds,
            connections=connections or self.c.connections,
            watch=self.workers(),
            db_pids=self.db_backends(),
        )

    # --- measurements ------------------------------------------------------------------
    def history(self, size: str, urls: dict[str, str]) -> None:
        """The app and the bare view alternately, BENCH_ROUNDS times each, so that a change
        in the shared machine's load falls on both sides alike."""
        options = {"connections": self.c.history_connections}
        for name, url in urls.items():
            sides = {"app": url, "bare": f"/bench/bare-sql/{name}"}
            for path in sides.values():
                self.wrk(path, "get.lua", [self.busy_key], seconds=self.c.warmup, **options)
            runs = {kind: [] for kind in sides}
            for _ in range(self.c.rounds):
                for kind, path in sides.items():
                    result = self.wrk(
                        path, "get.lua", [self.busy_key], seconds=self.c.seconds, **options
                    )
                    if result.other or result.errors:
                        raise RuntimeError(f"history {name} {kind}: {result.sample}")
                    runs[kind].append(result)
            for kind, results in runs.items():
                result = self.r.history[(size, name, kind)] = procs.combine(results)
                log(
                    f"   history {size} {name} {kind}: p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms, {result.requests / result.seconds:.0f} req/s"
                )

    def single(self) -> None:
        """The bare view and the app alternately (see history), every run with ts of its own."""
        now, keys = ms(datetime.now(UTC)), str(self.keys_file)
        sides = {"bare": "/bench/bare-event", "app": "/api/event"}
        for path in sides.values():  # an hour before the measured runs' ts
            self.wrk(path, "single.lua", [keys, str(now - 3_600_000), "1"], seconds=self.c.warmup)
        runs = {kind: [] for kind in sides}
        for round_ in range(self.c.rounds):
            base = str(now - round_ * 600_000)  # ten minutes apart: far more than a run posts
            for kind, path in sides.items():
                runs[kind].append(
                    self.wrk(path, "single.lua", [keys, base, "1"], seconds=self.c.seconds)
                )
        self.r.bare, self.r.single = (procs.combine(runs[kind]) for kind in ("bare", "app"))
        self.r.single_rounds = {kind: [x.stored_per_s for x in runs[kind]] for kind in runs}
        for kind, result in (("bare", self.r.bare), ("app", self.r.single)):
            log(
                f"   single {kind}: {result.stored_per_s:.0f} stored/s, {result.limited} x 429,"
                f" {result.other} other, wrk CPU {result.wrk_cpu_share:.0%} of a core"
                f" (rounds: {', '.join(f'{x.stored_per_s:.0f}' for x in runs[kind])})"
            )
            if result.other:
                log(f"   sample answer: {result.sample}")

    def batch(self) -> None:
        now, keys, size = ms(datetime.now(UTC)), str(self.keys_file), str(self.c.batch)
        # Events step back a second each from these bases: the warm-up's never reach a day on.
        warmup = [keys, str(now - 2 * 86_400_000), "1", size]
        self.wrk("/api/events", "batch.lua", warmup, seconds=self.c.warmup)
        began = datetime.now(UTC)
        measured = [keys, str(now - 86_400_000), "1", size]
        result = self.wrk("/api/events", "batch.lua", measured, seconds=self.c.seconds)
        self.r.batch = result
        log(
            f"   batch: {result.stored_per_s:.0f} events/s stored, {result.limited} x 429,"
            f" {result.other} other, wrk CPU {result.wrk_cpu_share:.0%} of a core"
        )
        if result.other:
            log(f"   sample answer: {result.sample}")
        self.copy_baseline(began)

    def copy_baseline(self, since: datetime) -> None:
        """Take out the rows the batch run stored, and COPY them back, 1000 rows a commit."""
        columns = "device_id, channel, ts, received_at, state, value"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM events_event WHERE received_at >= %s ORDER BY id",  # noqa: S608
                [since],
            )
            rows = cursor.fetchall()
            cursor.execute("DELETE FROM events_event WHERE received_at >= %s", [since])
        began = time.perf_counter()
        for start in range(0, len(rows), self.c.batch):
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY events_event ({columns}) FROM STDIN") as copy,
            ):
                for row in rows[start : start + self.c.batch]:
                    copy.write_row(row)
        self.r.copy_s, self.r.copy_rows = time.perf_counter() - began, len(rows)
        log(f"   COPY of the same {len(rows):,} rows: {len(rows) / self.r.copy_s:.0f} rows/s")

    def stop_all(self) -> None:
        for started in reversed(self.started):
            started.stop()


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop processes


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    from bench import diagnose, jobs, memory, write

    config = Config()
    config.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(config)
    try:
        bench.setup()
        bench.load_small()
        urls = bench.history_queries()
        bench.start_web()
        bench.history("small", urls)
        bench.load_large()
        bench.history("large", urls)
        jobs.rollup(bench)
        jobs.purge(bench)
        log("single-event ingest vs the bare view")
        bench.single()
        log("batch ingest vs COPY")
        bench.batch()
        log("in-process diagnosis")
        bench.r.splits = diagnose.splits(bench, urls)
        bench.r.packages = diagnose.packages(bench, urls)
        memory.measure(bench)
    finally:
        bench.stop_all()
    bench.r.load_average.append(Path("/proc/loadavg").read_text().split()[:3])
    write.report(bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
