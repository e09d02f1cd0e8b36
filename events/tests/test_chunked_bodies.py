"""Chunked request bodies (Transfer-Encoding: chunked, no Content-Length) on a real
gunicorn, which de-chunks them: Django's test client cannot send one."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
from urllib.parse import urlsplit

import pytest

from events.models import Event
from events.tests.test_celery_worker import database_url_under_test
from telemetry import errors
from telemetry.tests.test_web_processes import serve
from testsupport import PASSWORD

TS = 1767225600000


@pytest.fixture
def server():
    """One gunicorn on the test database, its rate-limit counters in its own memory."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    process, url = serve({**env, "DATABASE_URL": database_url_under_test(), "WEB_WORKERS": "1"})
    yield urlsplit(url)
    process.terminate()
    process.wait(timeout=30)


def post_chunked(server, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    """POST `body` in 64 KiB chunks; http.client sends Transfer-Encoding: chunked."""
    connection = http.client.HTTPConnection(server.hostname, server.port, timeout=30)
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    # Refused before it read everything: the answer is already waiting.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def key_headers(key: str) -> dict:
    return {"x-api-key": key, "Content-Type": "application/json"}


@pytest.mark.django_db(transaction=True)
def test_a_chunked_event_is_read_and_stored(server, device, device_key):
    body = json.dumps({"channel": "pump", "state": "ON", "ts": TS}).encode()

    status, answer = post_chunked(server, "/api/event", body, key_headers(device_key))

    assert (status, answer["result"]) == (200, "stored")
    assert list(Event.objects.values_list("channel", "state")) == [("pump", "ON")]


@pytest.mark.django_db(transaction=True)
def test_a_chunked_batch_is_read_and_stored(server, device, device_key):
    events = [{"channel": "temperature", "value": 20 + i, "ts": TS + i} for i in range(3)]
    body = json.dumps({"events": events}).encode()

    status, answer = post_chunked(server, "/api/events", body, key_headers(device_key))

    assert (status, answer["stored"]) == (200, 3)
    assert Event.objects.filter(device=device).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_5_mb_chunked_batch_is_413_and_stores_nothing(server, device, device_key):
    events = [{"channel": "temperature", "value": 20, "ts": TS + i} for i in range(1000)]
    body = json.dumps({"events": events, "pad": "x" * 5_000_000}).encode()

    status, answer = post_chunked(server, "/api/events", body, key_headers(device_key))

    assert status == 413
    assert answer == {"ok": False, "error": errors.BODY_TOO_LARGE.format(limit=1024 * 1024)}
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_chunked_token_request_is_read(server, alice):
    body = json.dumps({"username": "alice", "password": PASSWORD}).encode()

    status, answer = post_chunked(server, "/api/auth/token", body, {})

    assert status == 200
    assert set(answer) == {"access", "refresh"}


def test_a_server_that_does_not_dechunk_answers_400_not_an_empty_body(api, device_key):
    response = api.generic(
        "POST", "/api/event", b"", content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked", HTTP_X_API_KEY=device_key,
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": errors.BODY_CHUNKED_UNREADABLE}
    assert Event.objects.count() == 0
