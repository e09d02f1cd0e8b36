"""Log in, log out and change password pages; the session also reads the API."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import errors
from accounts.models import User
from telemetry.handlers import CACHE_DOWN
from testsupport import PASSWORD, make_user


@pytest.fixture
def browser_client() -> Client:
    return Client(enforce_csrf_checks=True)


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    body = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    return client.post("/login/", body, **extra)


def test_it_logs_a_user_in_and_sends_them_to_their_devices(browser_client, alice):
    response = log_in(browser_client, "alice")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert browser_client.get("/").status_code == 200


def test_it_refuses_a_wrong_password_with_a_message(browser_client, alice):
    response = log_in(browser_client, "alice", "wrong")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in browser_client.session


@pytest.mark.usefixtures("frozen_rate_window")
def test_it_limits_failed_logins_per_address(browser_client, alice, settings):
    settings.LOGIN_FAILURE_RATE = "2/m"
    for _ in range(2):
        log_in(browser_client, "alice", "wrong", REMOTE_ADDR="203.0.113.9")

    response = log_in(browser_client, "alice", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    message = errors.TOO_MANY_LOGIN_FAILURES.format(ip="203.0.113.9", described="2 per minute")
    assert message in response.content.decode()
    assert "_auth_user_id" not in browser_client.session


def test_a_down_cache_answers_503_with_retry_after(browser_client, alice, redis_down):
    response = log_in(browser_client, "alice", "wrong")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert CACHE_DOWN in response.content.decode()
    assert "_auth_user_id" not in browser_client.session


def test_it_refuses_a_user_of_a_deactivated_tenant(browser_client, alice, tenant):
    tenant.is_active = False
    tenant.save(update_fields=["is_active"])

    response = log_in(browser_client, "alice")

    assert response.status_code == 200
    assert errors.TENANT_INACTIVE in response.content.decode()
    assert "_auth_user_id" not in browser_client.session


def test_pages_send_a_stranger_to_log_in(client, db):
    response = client.get("/devices/esp32-01/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/devices/esp32-01/"


def test_logout_is_a_post(browser_client, alice):
    log_in(browser_client, "alice")
    assert browser_client.get("/logout/").status_code == 405

    token = browser_client.cookies["csrftoken"].value
    response = browser_client.post("/logout/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in browser_client.session


def test_a_user_changes_their_password(browser_client, alice):
    log_in(browser_client, "alice")
    browser_client.get("/password/")
    body = {
        "old_password": PASSWORD,
        "new_password1": "a-much-longer-new-secret-42",
        "new_password2": "a-much-longer-new-secret-42",
        "csrfmiddlewaretoken": browser_client.cookies["csrftoken"].value,
    }

    response = browser_client.post("/password/", body)

    assert response.status_code == 302
    assert response["Location"] == "/password/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-much-longer-new-secret-42")


def test_an_operator_without_a_tenant_is_sent_to_admin(client, db):
    client.force_login(make_user(None, "root"))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_non_staff_user_without_a_tenant_is_refused(client, db):
    client.force_login(User.objects.create_user(username="drifter", password=PASSWORD))

    response = client.get("/")

    assert response.status_code == 403
    assert errors.NO_TENANT_PAGES in response.content.decode()
