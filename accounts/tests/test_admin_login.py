"""Django admin's login shares /login/'s limit of failed logins per client address."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts import errors
from telemetry.handlers import CACHE_DOWN
from testsupport import PASSWORD, make_user

PROXY = "198.51.100.1"  # the reverse proxy: every request's REMOTE_ADDR
CLIENT = "203.0.113.9"

pytestmark = pytest.mark.usefixtures("frozen_rate_window")


@pytest.fixture(autouse=True)
def behind_a_proxy(settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    settings.LOGIN_FAILURE_RATE = "10/m"


@pytest.fixture
def root(db):
    return make_user(None, "root")  # an operator: a superuser of no tenant


def log_in(page: str, password: str, client_ip: str = CLIENT, username: str = "root"):
    body = {"username": username, "password": password, "next": "/admin/"}
    return Client().post(page, body, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip)


def test_a_right_password_logs_an_operator_in(root):
    response = log_in("/admin/login/", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_it_refuses_the_eleventh_wrong_password_from_one_address(root):
    statuses = [log_in("/admin/login/", "wrong").status_code for _ in range(12)]

    assert statuses == [200] * 10 + [429] * 2


def test_over_the_limit_it_refuses_the_right_password_too_with_a_message(root):
    for _ in range(10):
        log_in("/admin/login/", "wrong")

    response = log_in("/admin/login/", PASSWORD)

    assert response.status_code == 429
    message = errors.TOO_MANY_LOGIN_FAILURES.format(ip=CLIENT, described="10 per minute")
    shown = rf'<p class="errornote">\s*{re.escape(message)}; retry in \d+ s\s*</p>'
    assert re.search(shown, response.content.decode())
    assert "_auth_user_id" not in response.wsgi_request.session


def test_it_answers_the_same_headers_as_the_login_page(root):
    for _ in range(10):
        log_in("/admin/login/", "wrong")

    admin_page = log_in("/admin/login/", PASSWORD)
    login_page = log_in("/login/", PASSWORD)

    headers = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
    assert [admin_page[name] for name in headers] == [login_page[name] for name in headers]
    assert admin_page["RateLimit-Limit"] == "10" and admin_page["RateLimit-Remaining"] == "0"
    assert int(admin_page["Retry-After"]) >= 1


def test_failures_on_the_login_page_count_for_the_admin_login(root):
    for _ in range(10):
        log_in("/login/", "wrong")

    assert log_in("/admin/login/", PASSWORD).status_code == 429


def test_failures_on_the_admin_login_count_for_the_login_page(root, alice):
    for _ in range(5):
        log_in("/admin/login/", "wrong")
    for _ in range(5):
        log_in("/login/", "wrong", username="alice")

    response = log_in("/login/", PASSWORD, username="alice")

    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session


def test_another_address_is_not_affected(root):
    for _ in range(10):
        log_in("/admin/login/", "wrong")

    assert log_in("/admin/login/", PASSWORD, client_ip="192.0.2.44").status_code == 302


def test_a_right_password_does_not_count_as_a_failure(root):
    for _ in range(11):
        log_in("/admin/login/", PASSWORD)

    assert log_in("/admin/login/", PASSWORD).status_code == 302


def test_a_down_cache_answers_503_with_retry_after(root, redis_down):
    response = log_in("/admin/login/", "wrong")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert CACHE_DOWN in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session
