"""Failed API keys and logins are limited per client address (guessing gains nothing)."""

from __future__ import annotations

import pytest

from accounts import errors
from testsupport import PASSWORD

WRONG_KEY = "A" * 40

pytestmark = pytest.mark.usefixtures("frozen_rate_window")


@pytest.fixture(autouse=True)
def low_limits(settings):
    settings.KEY_FAILURE_RATE = "3/m"
    settings.LOGIN_FAILURE_RATE = "2/m"


def history(api, key, ip="203.0.113.5"):
    return api.get("/api/history", HTTP_X_API_KEY=key, REMOTE_ADDR=ip)


def login(api, password, ip="203.0.113.5"):
    body = {"username": "alice", "password": password}
    return api.post("/api/auth/token", body, format="json", REMOTE_ADDR=ip)


def test_after_too_many_wrong_keys_the_address_gets_429_even_with_a_right_key(
    api, device, device_key
):
    assert [history(api, WRONG_KEY).status_code for _ in range(3)] == [401] * 3

    response = history(api, device_key)

    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error": errors.TOO_MANY_KEY_FAILURES.format(ip="203.0.113.5", described="3 per minute")
        + f"; retry in {response['Retry-After']} s",
    }


def test_another_address_is_not_affected(api, device, device_key):
    for _ in range(3):
        history(api, WRONG_KEY)

    assert history(api, device_key, ip="198.51.100.7").status_code == 200


def test_right_keys_do_not_count_as_failures(api, device, device_key):
    for _ in range(10):
        history(api, device_key)

    assert history(api, device_key).status_code == 200


def test_after_too_many_wrong_passwords_logins_get_429(api, alice):
    assert [login(api, "wrong").status_code for _ in range(2)] == [401, 401]

    response = login(api, PASSWORD)

    assert response.status_code == 429
    assert response.json()["error"].startswith(
        errors.TOO_MANY_LOGIN_FAILURES.format(ip="203.0.113.5", described="2 per minute")
    )
    assert "access" not in response.json()


def test_a_right_password_from_another_address_still_logs_in(api, alice):
    for _ in range(2):
        login(api, "wrong")

    response = login(api, PASSWORD, ip="198.51.100.7")

    assert response.status_code == 200
    assert set(response.json()) >= {"access", "refresh"}


def test_behind_a_proxy_the_configured_header_names_the_client(api, device, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    for _ in range(3):
        api.get("/api/history", HTTP_X_API_KEY=WRONG_KEY, HTTP_X_FORWARDED_FOR="1.1.1.1, 9.9.9.9")

    blocked = api.get("/api/history", HTTP_X_API_KEY=WRONG_KEY, HTTP_X_FORWARDED_FOR="9.9.9.9")
    other = api.get("/api/history", HTTP_X_API_KEY=WRONG_KEY, HTTP_X_FORWARDED_FOR="1.1.1.1")

    assert (blocked.status_code, other.status_code) == (429, 401)
