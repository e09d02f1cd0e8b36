"""Web processes: several share Redis for rate limits; without Redis only one may start."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from accounts.models import Tenant
from events.models import Event
from events.tests.test_celery_worker import database_url_under_test, private_redis_url
from testsupport import free_port, make_key

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn", "telemetry.wsgi"]


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A gunicorn instance on a free port, once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        GUNICORN, cwd=ROOT, env={**env, "BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)


def post(url: str, key: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/api/event", data=json.dumps(body).encode(), method="POST",
        headers={"x-api-key": key, "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_without_redis_more_than_one_web_process_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        GUNICORN, cwd=ROOT, env={**env, "WEB_WORKERS": "2", "BIND": f"127.0.0.1:{free_port()}"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == 1
    assert "2 web processes need REDIS_URL" in result.stderr


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_servers_sharing_redis_hold_one_devices_limit_together(tenant, device):
    # An hour's window, so no window ends during the test.
    Tenant.objects.filter(pk=tenant.pk).update(write_rate="5/h")
    key = make_key(device)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_under_test(),
        "REDIS_URL": private_redis_url(),
        "WEB_WORKERS": "1",
    }
    servers = [serve(env), serve(env)]
    try:
        answers = [
            post(
                servers[i % 2][1], key, {"channel": "pump", "state": "ON", "ts": 1767225600000 + i}
            )
            for i in range(20)
        ]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)

    statuses = [status for status, _ in answers]
    stored = [body for status, body in answers if status == 200 and body["result"] == "stored"]
    assert len(stored) == 5
    assert statuses.count(429) == 15
    assert Event.objects.filter(device=device).count() == 5
