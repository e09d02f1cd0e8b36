"""GET /healthz: 200 when the database, cache and broker answer; 503 naming what does not."""

from __future__ import annotations

import pytest
from django.test import Client

from telemetry.celery import app as celery_app
from telemetry.handlers import METHOD_NOT_ALLOWED
from testsupport import free_port


def test_it_answers_200_when_everything_is_reachable(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_a_down_cache_is_503_and_named(client, db, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"] == "unreachable: cache"
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.redis
def test_a_down_broker_is_503_and_named(client, db, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["error"] == "unreachable: broker"


def test_it_answers_with_a_trailing_slash_too(client, db):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json()["ok"] is True


@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_it_answers_plain_http_when_everything_else_redirects_to_https(client, db, settings, path):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert client.get("/api/history").status_code == 301  # the rest does redirect


def test_a_probe_naming_the_targets_address_as_host_is_answered(client, db, settings):
    settings.ALLOWED_HOSTS = ["telemetry.example.com"]

    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert client.get("/api/history", HTTP_HOST="10.0.0.5:8000").status_code == 400  # the rest


def test_head_is_answered(client, db):
    assert client.head("/healthz").status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_other_methods_are_405_json_not_a_csrf_page(db, method, path):
    client = Client(enforce_csrf_checks=True)

    response = client.generic(method, path, "{}", content_type="application/json")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"ok": False, "error": METHOD_NOT_ALLOWED.format(method=method)}
