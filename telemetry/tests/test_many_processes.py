"""Two web servers and two Celery workers on one PostgreSQL and one Redis: nothing
lost, nothing doubled, one rate limit across servers, and the rollups of one process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from celery import Celery

from accounts.models import Tenant
from events.models import Event, JobCursor, Rollup
from events.services.rollup import rollup_run
from events.tests.test_celery_worker import ROOT, database_url_under_test, private_redis_url
from telemetry.tests.test_web_processes import post, serve
from testsupport import make_device, make_key

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DEVICES, POSTS, ALLOWED = 20, 40, 30  # each device posts 40 times; 30 a day pass
START_MS = int(datetime(2026, 1, 10, 8, 0, tzinfo=UTC).timestamp() * 1000)


def reading(device_number: int, n: int) -> dict:
    ts = START_MS + n * 211_000 + device_number  # ~3.5 min apart, over 2.3 hours
    if n % 4 == 0:
        return {"channel": "pump", "state": "ON" if n % 8 == 0 else "OFF", "ts": ts}
    return {"channel": "temperature", "value": 20 + n / 10, "ts": ts}


def rollup_rows() -> list[tuple]:
    fields = ["device_id", "channel", "period", "bucket_start", "count", "changes", "state_ms",
              "known_ms", "min", "max", "sum", "twa", "last_state", "last_value"]  # fmt: skip
    return list(Rollup.objects.order_by("device_id", "channel", "period", "bucket_start")
                .values_list(*fields))  # fmt: skip


class Worker:
    """A Celery worker process on a queue of its own, its output collected as it comes."""

    def __init__(self, env: dict[str, str], queue: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "telemetry", "worker", "--concurrency", "1",
             "--queues", queue, "--hostname", f"{queue}@%h", "--without-gossip",
             "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def wait_for(condition, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.2)


def test_many_processes_lose_nothing_double_nothing_and_agree(tenant):
    Tenant.objects.filter(pk=tenant.pk).update(write_rate=f"{ALLOWED}/d")
    keys = [make_key(make_device(tenant, f"pool-{number:02d}")) for number in range(DEVICES)]
    env = {**os.environ, "DATABASE_URL": database_url_under_test(),
           "REDIS_URL": private_redis_url(), "WEB_WORKERS": "2", "WEB_THREADS": "4"}  # fmt: skip
    servers = [serve(env), serve(env)]
    jobs = [(d, n) for n in range(POSTS) for d in range(DEVICES)]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(
                lambda job: post(servers[job[1] % 2][1], keys[job[0]], reading(*job)), jobs
            ))  # fmt: skip
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)

    stored = sum(1 for status, body in answers if status == 200 and body["result"] == "stored")
    refused = sum(1 for status, _ in answers if status == 429)
    assert (stored, refused) == (DEVICES * ALLOWED, DEVICES * (POSTS - ALLOWED))
    assert Event.objects.count() == stored  # every acknowledged write, once
    per_device = {d.device_id: d.events.count() for d in tenant.devices.all()}
    assert set(per_device.values()) == {ALLOWED}

    running = [Worker(env, "q0"), Worker(env, "q1")]
    try:
        wait_for(lambda: all(w.count(" ready.") for w in running), "both workers ready")
        sender = Celery(broker=env["REDIS_URL"])
        for queue in ("q0", "q1", "q0", "q1"):  # both workers at once, over the same buckets
            sender.send_task("events.tasks.rollup", queue=queue)
        wait_for(lambda: all(w.count("succeeded") >= 2 for w in running), "every rollup ran")
    finally:
        for worker in running:
            worker.stop()
    from_workers = rollup_rows()

    Rollup.objects.all().delete()
    JobCursor.objects.all().delete()
    rollup_run()

    assert len(from_workers) > DEVICES * 2
    assert from_workers == rollup_rows()
