"""The device list (/) and device page (/devices/<id>/), rendered by the server."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from events.serializers import Reading
from events.services import event_ingest
from testsupport import make_device, make_tenant, make_user


def post(device, ts, channel="pump", state=None, value=None):
    reading = Reading(channel, ts, state=state, value=value)
    event_ingest(device=device, reading=reading, received_at=datetime.now(UTC))


def without_csrf_token(response) -> str:
    """The page with its CSRF token (masked anew on every render) blanked."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_the_list_shows_the_tenants_devices_only(logged_in, device, other_tenant):
    make_device(other_tenant, "globex-secret")
    post(device, datetime.now(UTC) - timedelta(minutes=3), state="ON")

    page = logged_in.get("/").content.decode()

    assert 'data-device-id="esp32-01"' in page
    assert "globex-secret" not in page
    assert 'href="/devices/esp32-01/"' in page
    assert '<span class="state on">ON</span>' in page


def test_the_list_runs_a_fixed_number_of_queries(logged_in, tenant, django_assert_num_queries):
    for number in range(5):
        post(make_device(tenant, f"esp32-{number:02d}"), datetime.now(UTC), state="ON")

    # session, user, tenant, devices, channels, today's events
    with django_assert_num_queries(6):
        response = logged_in.get("/")

    assert response.content.decode().count('class="card device"') == 5


def test_a_new_tenant_is_told_how_to_post_a_first_event(client, db):
    newcomer = make_user(make_tenant("fresh"), "fiona")
    client.force_login(newcomer)

    page = client.get("/").content.decode()

    assert "No devices yet" in page
    assert "manage.py create_device fresh esp32-01" in page
    assert 'curl -X POST http://testserver/api/event -H "x-api-key: $KEY"' in page


def test_the_device_page_carries_its_chart_settings(logged_in, device):
    device.tenant.time_zone = "Europe/Madrid"
    device.tenant.save(update_fields=["time_zone"])
    post(device, datetime.now(UTC), channel="temperature", value=24.5)
    seen = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    type(device).objects.filter(pk=device.pk).update(last_seen_at=seen)

    response = logged_in.get("/devices/esp32-01/")

    page = response.content.decode()
    config = page.split('<script id="device-config" type="application/json">')[1]
    config = json.loads(config.split("</script>")[0])
    assert config["deviceId"] == "esp32-01"
    assert config["timeZone"] == "Europe/Madrid"
    assert config["channels"] == {"temperature": "numeric"}
    assert config["historyUrl"] == "/api/history"
    # last seen + the expected 5 minutes + the minute "last seen" may lag behind
    assert config["silentSince"] == int((seen + timedelta(minutes=6)).timestamp() * 1000)
    assert "Times in Europe/Madrid" in page
    assert "/static/vendor/uplot/uPlot.iife.min." in page  # hashed by the manifest


def test_the_device_page_lists_the_latest_events_newest_first(logged_in, device):
    start = datetime.now(UTC) - timedelta(hours=1)
    for minute in range(25):
        post(device, start + timedelta(minutes=minute), channel="temperature", value=minute)

    page = logged_in.get("/devices/esp32-01/").content.decode()

    table = page.split('id="latest-events"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 20
    assert table.index(">24<") < table.index(">23<")


def test_another_tenants_device_page_is_404_like_a_missing_one(client, charlie, device):
    client.force_login(charlie)

    theirs = client.get("/devices/esp32-01/")
    missing = client.get("/devices/no-such-device/")

    assert theirs.status_code == missing.status_code == 404
    assert without_csrf_token(theirs) == without_csrf_token(missing)


def test_the_device_page_runs_a_fixed_number_of_queries(
    logged_in, device, django_assert_num_queries
):
    for channel in ("pump", "valve", "light"):
        post(device, datetime.now(UTC), channel=channel, state="ON")

    # session, user, tenant, device, channels, today's events, latest events
    with django_assert_num_queries(7):
        assert logged_in.get("/devices/esp32-01/").status_code == 200
