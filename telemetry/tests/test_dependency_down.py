"""A dependency briefly unavailable answers 503 with Retry-After (JSON on the API, HTML on
pages), never 500."""

from __future__ import annotations

import http.cookiejar
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from devices.models import DeviceAPIKey
from devices.services import KEY_LENGTH
from events.models import Event
from telemetry.handlers import CACHE_DOWN, DATABASE_BUSY, DATABASE_DOWN
from telemetry.tests.test_web_processes import post, serve
from testsupport import free_port, key_header

BODY = {"channel": "pump", "state": "ON"}


def test_a_down_redis_answers_503_and_stores_nothing(api, device, device_key, redis_down):
    response = api.post("/api/event", BODY, format="json", **key_header(device_key))

    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": CACHE_DOWN}
    assert response["Retry-After"] == "5"
    assert not Event.objects.exists()


def test_a_page_that_touches_a_down_redis_answers_503_html(
    ada_client, device, device_key, redis_down, settings
):
    settings.KEY_CACHE_SECONDS = 60  # revoking drops the key's cache entry
    url = f"/manage/devices/esp32-01/keys/{device_key[:8]}/revoke/"

    response = ada_client.post(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert CACHE_DOWN in response.content.decode()
    # Not revoked while its cached copy could not be dropped (it would keep working).
    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is None


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_a_locked_sqlite_answers_503_and_stores_nothing(api, device, device_key):
    other = sqlite3.connect(connection.settings_dict["NAME"])
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 100")
    try:
        response = api.post("/api/event", BODY, format="json", **key_header(device_key))
    finally:
        other.rollback()
        other.close()
        connection.close()

    assert response.status_code == 503
    assert response.json() == {"ok": False, "error": DATABASE_BUSY}
    assert response["Retry-After"] == "1"
    assert not Event.objects.exists()


def test_a_command_with_redis_down_says_so_and_revokes_nothing(
    device, device_key, redis_down, settings
):
    settings.KEY_CACHE_SECONDS = 60

    with pytest.raises(CommandError, match=r"the cache \(Redis\) is unavailable"):
        call_command("revoke_key", device_key[:8], stdout=StringIO())

    assert DeviceAPIKey.objects.get(prefix=device_key[:8]).revoked_at is None


def test_a_down_database_answers_503_on_the_api_and_on_pages(tmp_path):
    # A real server whose database does not answer (no Redis: a key is looked up there).
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/none",
            "DATA_DIR": str(tmp_path)}  # fmt: skip
    process, url = serve(env)
    try:
        status, body = post(url, "k" * KEY_LENGTH, BODY)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(f"{url}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
        login = urllib.request.Request(
            f"{url}/login/", method="POST", headers={"Referer": f"{url}/login/"},
            data=urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "username": "ada", "password": "wrong"}
            ).encode(),
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as page:
            opener.open(login)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert (status, body) == (503, {"ok": False, "error": DATABASE_DOWN})
    assert page.value.code == 503
    assert page.value.headers["Retry-After"] == "5"
    assert DATABASE_DOWN in page.value.read().decode()
