"""POST /api/auth/token and /api/auth/token/refresh read their bodies by the device
endpoints' rules: capped, no duplicate keys, no deep nesting, no Content-Type means JSON."""

from __future__ import annotations

import json

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from telemetry import errors
from testsupport import PASSWORD

ENDPOINTS = ["/api/auth/token", "/api/auth/token/refresh"]


def raw_post(api, path, body: bytes | str, content_type="application/json"):
    return api.generic("POST", path, body, content_type=content_type)


def assert_refused(response, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    assert response.json() == {"ok": False, "error": error}
    assert OutstandingToken.objects.count() == 0


def credentials(password=PASSWORD) -> dict:
    return {"username": "alice", "password": password}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_json_nested_1000_levels_deep_is_400_not_500(api, alice, path):
    body = '{"username": ' + "[" * 1000 + "]" * 1000 + ', "password": "x", "refresh": "x"}'

    assert_refused(raw_post(api, path, body), 400, errors.BODY_TOO_DEEP.format(limit=32))


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_64_kib_is_413(api, alice, path):
    body = json.dumps({**credentials(), "pad": "x" * 70_000})

    assert_refused(raw_post(api, path, body), 413, errors.BODY_TOO_LARGE.format(limit=65536))


def test_a_body_over_djangos_own_limit_is_413_json_not_its_400(api, alice):
    body = json.dumps({**credentials(), "pad": "x" * 3_000_000})

    response = raw_post(api, "/api/auth/token", body)

    assert_refused(response, 413, errors.BODY_TOO_LARGE.format(limit=65536))


def test_a_body_without_content_type_is_read_as_json(api, alice):
    response = raw_post(api, "/api/auth/token", json.dumps(credentials()), content_type="")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert OutstandingToken.objects.filter(user=alice).count() == 1


def test_a_declared_non_json_content_type_is_415(api, alice):
    response = raw_post(api, "/api/auth/token", json.dumps(credentials()), "text/plain")

    assert_refused(response, 415, errors.CONTENT_TYPE_NOT_JSON.format(content_type="text/plain"))


def test_a_duplicate_password_is_400_even_when_the_last_one_is_right(api, alice):
    body = f'{{"username": "alice", "password": "wrong", "password": "{PASSWORD}"}}'

    response = raw_post(api, "/api/auth/token", body)

    assert_refused(response, 400, errors.BODY_DUPLICATE_KEY.format(key="password"))


@pytest.mark.parametrize("path", ENDPOINTS)
def test_invalid_utf8_is_400_in_our_words(api, alice, path):
    response = raw_post(api, path, b'{"username": "\xff", "password": "x", "refresh": "\xff"}')

    assert_refused(response, 400, errors.BODY_NOT_UTF8)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_that_is_not_an_object_is_400(api, alice, path):
    assert_refused(raw_post(api, path, "[]"), 400, errors.BODY_NOT_OBJECT)


def test_nan_in_a_credential_is_400(api, alice):
    response = raw_post(api, "/api/auth/token", '{"username": "alice", "password": NaN}')

    assert_refused(response, 400, errors.BODY_NOT_FINITE)


def test_a_refresh_without_content_type_is_read_as_json(api, alice):
    refresh = raw_post(api, "/api/auth/token", json.dumps(credentials())).json()["refresh"]

    response = raw_post(api, "/api/auth/token/refresh", json.dumps({"refresh": refresh}), "")

    assert response.status_code == 200
    assert response.json()["refresh"] != refresh
    assert OutstandingToken.objects.filter(user=alice).count() == 2
