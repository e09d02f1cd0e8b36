"""GET /healthz: 200 when the database, cache and broker answer; 503 naming what does not."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import caches

from telemetry.celery import app as celery_app


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_it_answers_200_when_everything_is_reachable(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_a_down_cache_is_503_and_named(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    try:
        response = client.get("/healthz")
    finally:
        caches["default"].close()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == "unreachable: cache"
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.redis
def test_a_down_broker_is_503_and_named(client, db, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["error"] == "unreachable: broker"
