"""The real path: beat schedules the rollup, a Celery worker on Redis runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from events.models import Rollup
from events.serializers import Reading
from events.services import event_ingest

ROOT = Path(__file__).resolve().parents[2]
T = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)


def database_url_under_test() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def private_redis_url() -> str:
    """The same Redis, on a database of its own so no other worker takes these tasks;
    emptied first, so no counter or task of an earlier run leaks in."""
    url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path="/15"))
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_on_redis_roll_up_posted_events(device, tmp_path):
    event_ingest(device=device, reading=Reading("pump", T, state="ON"), received_at=T)
    event_ingest(
        device=device,
        reading=Reading("pump", T + timedelta(minutes=80), state="OFF"),
        received_at=T,
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_under_test(),
        "REDIS_URL": private_redis_url(),
        "ROLLUP_INTERVAL_SECONDS": "1",
        "DATA_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "telemetry", "worker", "--beat",
         "--schedule", str(tmp_path / "beat-schedule"), "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while Rollup.objects.filter(device=device).count() < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)

    day = Rollup.objects.get(device=device, period="day")
    assert day.state_ms["ON"] == 80 * 60 * 1000, output[-3000:]
    assert "events.tasks.rollup" in output
    assert Rollup.objects.filter(device=device, period="hour").count() == 2
