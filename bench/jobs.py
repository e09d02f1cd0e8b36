"""The background jobs measured in the driver's process: the hourly rollup and the purge,
each against a hand-written SQL baseline on the same rows."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.db import OperationalError, connection, connections

from bench import load, profile
from bench.procs import log
from events.models import JobCursor
from events.services import purge as purge_service
from events.services.rollup import ARRIVAL_OVERLAP, ROLLUP_CURSOR, rollup_run


def rollup(bench) -> None:
    log("rollup: the last hour of every device")
    hour = bench.t0 - timedelta(hours=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT device_id), sum(value) FROM events_event"
            " WHERE ts >= %s AND ts < %s",
            [bench.t0 - timedelta(days=1), bench.t0],
        )
        cursor.execute(
            "SELECT count(*), count(DISTINCT device_id) FROM events_event"
            " WHERE ts >= %s AND ts < %s",
            [hour, bench.t0],
        )
        events, devices = cursor.fetchone()
        cursor.execute(
            "CREATE TABLE bench_rollup_scratch (device_id bigint, channel varchar(64),"
            " bucket_start timestamptz, count integer, min float8, max float8, sum float8,"
            " PRIMARY KEY (device_id, channel, bucket_start))"
        )
        baseline = []
        for _ in range(2):  # the second run updates every row, as the job's upsert does
            began = time.perf_counter()
            cursor.execute(
                "INSERT INTO bench_rollup_scratch SELECT device_id, channel,"
                " date_trunc('hour', ts), count(*), min(value), max(value), sum(value)"
                " FROM events_event WHERE ts >= %s AND ts < %s"
                " GROUP BY device_id, channel, date_trunc('hour', ts)"
                " ON CONFLICT (device_id, channel, bucket_start) DO UPDATE SET"
                " count = excluded.count, min = excluded.min, max = excluded.max,"
                " sum = excluded.sum",
                [hour, bench.t0],
            )
            baseline.append(time.perf_counter() - began)
    JobCursor.objects.update_or_create(
        name=ROLLUP_CURSOR, defaults={"position": hour + ARRIVAL_OVERLAP}
    )
    split = profile.Split("rollup_run")
    with profile.timed(split):
        began = time.perf_counter()
        report = rollup_run(now=bench.t0)
        took = time.perf_counter() - began
    split.requests, split.wall_s = 1, took
    bench.r.rollup = {
        "split": split,
        "events": events,
        "devices": devices,
        "baseline_s": baseline[1],
        "baseline_first_s": baseline[0],
        "s": took,
        "channels": report.channels,
        "by_period": {str(k): v for k, v in report.by_period.items()},
    }
    log(
        f"   rollup_run {took:.3f} s ({report.channels} channels, {report.by_period});"
        f" SQL {baseline[1]:.3f} s; {events:,} events of {devices} devices"
    )


def purge(bench) -> None:
    cutoff = (bench.t0 - timedelta(days=bench.tenant.raw_retention_days)).replace(hour=0)
    count = "SELECT count(*) FROM events_event WHERE ts < %s"
    partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_event'::regclass"
    expired = bench._scalar(count, [cutoff])
    children_before = bench._scalar(partitions)
    log(f"purge: {expired:,} events before {cutoff:%Y-%m-%d} (events_purge)")
    # Its rollup of the last arrivals is timed apart (wrapped here, in this process only).
    spent, original = [], purge_service.rollup_run

    def timed_rollup_run(**kwargs):
        began = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    purge_service.rollup_run = timed_rollup_run
    split = profile.Split("events_purge")
    watchdog = _Watchdog(bench.c.purge_budget)
    try:
        with profile.timed(split), watchdog:
            began = time.perf_counter()
            purge_service.events_purge(now=bench.t0)
    except OperationalError:
        if not watchdog.fired.is_set():
            raise
    finally:
        took = time.perf_counter() - began
        purge_service.rollup_run = original
    split.requests, split.wall_s = 1, took
    left, children_after = bench._scalar(count, [cutoff]), bench._scalar(partitions)
    removing = took - sum(spent)
    if watchdog.fired.is_set():  # cut short: extrapolate its removal rate to every row
        removing = removing * expired / max(1, expired - left)
        log(f"   cut after the {bench.c.purge_budget} s budget; {expired - left:,} removed")
    log(
        f"   events_purge {took:.2f} s (its rollup_run {sum(spent):.2f} s), {left:,} left;"
        " putting the same rows back"
    )
    load.load_expired_again(bench.plan, bench.tenant.pk, cutoff, lambda m: None)
    bench._partition_upkeep()
    load.vacuum_analyze()
    again = bench._scalar(count, [cutoff])
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_event WHERE ts < %s", [cutoff])
    delete_s = time.perf_counter() - began
    bench.r.purge = {
        "split": split,
        "expired": expired,
        "s": removing,
        "cut": watchdog.fired.is_set(),
        "total_s": took,
        "rollup_s": sum(spent),
        "left": left,
        "again": again,
        "delete_s": delete_s,
        "partitioned": bool(bench.partitioned),
        "children": (children_before, children_after),
    }
    log(f"   DELETE of {again:,} rows {delete_s:.2f} s")


class _Watchdog:
    """Cancels the driver's running statement (again and again, until the job gives up)
    once `seconds` have passed: the batched purge re-reads every expired row per batch, so
    on a large table it can run for hours."""

    def __init__(self, seconds: float):
        self.seconds, self.fired, self.done = seconds, threading.Event(), threading.Event()

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    def _watch(self) -> None:
        if self.done.wait(self.seconds):
            return
        self.fired.set()
        try:
            while not self.done.wait(0.2):
                with connections["default"].cursor() as cursor:  # this thread's own connection
                    cursor.execute("SELECT pg_cancel_backend(%s)", [self.backend])
        finally:
            connections["default"].close()
