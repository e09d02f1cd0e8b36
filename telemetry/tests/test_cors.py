"""Browsers on configured origins (the old dashboard) may call the API; others may not."""

from __future__ import annotations

import pytest

DASHBOARD = "https://dashboard.example.net"


@pytest.fixture(autouse=True)
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [DASHBOARD]


def preflight(client, origin):
    return client.options(
        "/api/history",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key",
    )


def test_a_preflight_from_an_allowed_origin_may_send_the_key_header(client, db):
    response = preflight(client, DASHBOARD)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == DASHBOARD
    assert "x-api-key" in response["Access-Control-Allow-Headers"].split(", ")
    assert "GET" in response["Access-Control-Allow-Methods"]


def test_another_origin_gets_no_cors_headers(client, db):
    response = preflight(client, "https://evil.example.com")

    assert "Access-Control-Allow-Origin" not in response


def test_the_answer_to_an_allowed_origin_exposes_the_rate_limit_headers(client, device, device_key):
    response = client.get("/api/history", HTTP_ORIGIN=DASHBOARD, HTTP_X_API_KEY=device_key)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == DASHBOARD
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
