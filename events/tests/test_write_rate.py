"""The per-device write rate: a burst passes, a flood answers 429 and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import Tenant
from events import errors
from events.models import Event
from events.serializers import to_epoch_ms
from testsupport import key_header, make_device, make_key

TS = to_epoch_ms(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))

pytestmark = pytest.mark.usefixtures("frozen_rate_window")


def post(api, key, body):
    return api.post("/api/event", body, format="json", **key_header(key))


def pump(i: int) -> dict:
    return {"channel": "pump", "state": "ON" if i % 2 == 0 else "OFF", "ts": TS + i * 1000}


def test_valve_and_pump_in_the_same_second_are_both_stored(api, device, device_key):
    valve = post(api, device_key, {"channel": "valve", "state": "2", "ts": TS})
    pump_on = post(api, device_key, {"channel": "pump", "state": "ON", "ts": TS})

    assert [valve.json()["result"], pump_on.json()["result"]] == ["stored", "stored"]
    assert Event.objects.filter(device=device).count() == 2


def test_a_flood_gets_429s_and_stores_exactly_what_was_answered_stored(api, device, device_key):
    answers = [post(api, device_key, pump(i)) for i in range(20)]

    stored = [a for a in answers if a.status_code == 200 and a.json()["result"] == "stored"]
    limited = [a for a in answers if a.status_code == 429]
    assert len(stored) == 5  # the default write rate, 5/5s: a burst of 5
    assert len(limited) == 15
    assert Event.objects.filter(device=device).count() == len(stored)


def test_a_limited_answer_names_the_limit_and_says_when_to_retry(api, device, device_key):
    for i in range(5):
        post(api, device_key, pump(i))

    response = post(api, device_key, pump(5))

    assert response.status_code == 429
    error = response.json()["error"]
    assert error.startswith(
        errors.WRITE_RATE_EXCEEDED.format(
            device_id="esp32-01", described="5 per 5 seconds", rate="5/5s"
        )
    )
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 5
    assert f"retry in {retry_after} s" in error
    assert response["RateLimit-Limit"] == "5"
    assert response["RateLimit-Remaining"] == "0"
    assert response["RateLimit-Reset"] == str(retry_after)


def test_an_accepted_write_says_what_is_left(api, device, device_key):
    response = post(api, device_key, pump(0))

    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("5", "4")


def test_the_rate_is_the_tenants_own(api, tenant, device, device_key):
    Tenant.objects.filter(pk=tenant.pk).update(write_rate="2/m")

    results = [post(api, device_key, pump(i)).status_code for i in range(3)]

    assert results == [200, 200, 429]
    assert "2 per minute" in post(api, device_key, pump(9)).json()["error"]


def test_each_device_has_its_own_budget(api, tenant, device, device_key):
    other_key = make_key(make_device(tenant, "esp32-02"))
    for i in range(5):
        post(api, device_key, pump(i))

    assert post(api, device_key, pump(5)).status_code == 429
    assert post(api, other_key, pump(0)).status_code == 200


def test_a_batch_counts_as_one_write(api, device, device_key):
    batch = {"events": [pump(i) for i in range(100)]}
    answers = [api.post("/api/events", batch, format="json", **key_header(device_key))
               for _ in range(6)]  # fmt: skip

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].json()["stored"] == 100
    assert Event.objects.filter(device=device).count() == 100


def test_bad_input_is_refused_before_it_costs_a_write(api, device, device_key):
    for _ in range(10):
        post(api, device_key, {"channel": "pump", "state": "ON", "ts": "yesterday"})

    assert post(api, device_key, pump(0)).status_code == 200


def test_single_posts_and_batches_share_one_budget(api, device, device_key):
    singles = [post(api, device_key, pump(i)).status_code for i in range(3)]
    batch = {"events": [pump(i) for i in range(10, 12)]}
    batches = [api.post("/api/events", batch, format="json", **key_header(device_key))
               for _ in range(2)]  # fmt: skip

    assert singles + [b.status_code for b in batches] == [200] * 5
    assert post(api, device_key, pump(20)).status_code == 429
