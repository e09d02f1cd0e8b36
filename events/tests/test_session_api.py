"""The pages' own API calls authenticate with the session; writes need the CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import errors as account_errors
from devices import errors as device_errors
from events.models import Event


@pytest.fixture
def session(alice) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/")  # sets the CSRF cookie, as the pages do
    return client


def test_a_logged_in_user_reads_history_with_the_session(session, device):
    response = session.get("/api/history", {"deviceId": "esp32-01"})

    assert response.status_code == 200
    assert response.json()["deviceId"] == "esp32-01"


def test_a_session_write_without_the_csrf_token_is_refused(session, device):
    body = '{"deviceId": "esp32-01", "channel": "pump", "state": "ON"}'
    response = session.post("/api/event", body, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert "CSRF" in response.json()["error"]
    assert Event.objects.count() == 0


def test_a_session_write_with_the_csrf_token_is_stored(session, device):
    body = '{"deviceId": "esp32-01", "channel": "pump", "state": "ON"}'
    token = session.cookies["csrftoken"].value
    response = session.post(
        "/api/event", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200
    assert response.json()["result"] == "stored"
    assert Event.objects.filter(device=device, channel="pump", state="ON").count() == 1


def test_the_session_of_another_tenants_user_sees_404(client, charlie, device):
    client.force_login(charlie)

    response = client.get("/api/history", {"deviceId": "esp32-01"})

    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": device_errors.DEVICE_NOT_FOUND}


def test_a_session_of_a_deactivated_tenant_is_refused(client, alice, tenant, device):
    client.force_login(alice)
    tenant.is_active = False
    tenant.save(update_fields=["is_active"])

    response = client.get("/api/history", {"deviceId": "esp32-01"})

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": account_errors.TENANT_INACTIVE}
