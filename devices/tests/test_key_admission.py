"""Device-key admission on Redis: a key this process knows posts in one round trip to
Redis and one SQL statement; a wrong secret, another device or a changed key never
counts a write, and revocation still fails the next request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from accounts import errors as account_errors
from accounts.services import credential_failures_window
from devices import errors
from devices.services import device_seen_claim_name, key_revoke, key_used_claim_name
from devices.tests.test_key_cache import key_cache  # noqa: F401 (KEY_CACHE_SECONDS = 60)
from events.models import Event
from events.services import write_window
from testsupport import key_header, make_key

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("frozen_rate_window", "key_cache")]

TS = 1767225600000
# The insert; on SQLite the current state apart, inside a savepoint of the test.
INSERT = 1 if connection.vendor == "postgresql" else 4


def post(api, key, n=0, **body):
    body = {"channel": "temperature", "value": 21.5, "ts": TS + n, **body}
    return api.post("/api/event", body, format="json", **key_header(key))


def remaining(response) -> int:
    return int(response["RateLimit-Remaining"])


def writes(device) -> int:
    """The writes counted in the device's current window."""
    device.tenant.refresh_from_db()
    return cache.get(write_window(device_pk=device.pk, rate=device.tenant.write_rate).name)


def test_a_known_keys_post_is_one_round_trip_and_one_statement(
    api, device, device_key, redis_round_trips, django_assert_num_queries
):
    post(api, device_key)
    redis_round_trips.clear()

    with django_assert_num_queries(INSERT):
        response = post(api, device_key, 1)

    assert response.json()["result"] == "stored"
    assert redis_round_trips == [b"EVALSHA"]
    assert remaining(response) == 3  # the default 5/5s, two writes counted


def test_a_key_first_seen_is_read_checked_and_cached(
    api, device, device_key, redis_round_trips, django_assert_num_queries
):
    post(api, device_key)  # the channel exists, the device was noted seen
    second_key = make_key(device)
    redis_round_trips.clear()

    with django_assert_num_queries(2 + INSERT):  # the key, its last use; the insert
        response = post(api, second_key, 1)

    assert remaining(response) == 3
    # Admission finds no entry; the entry is cached; the claim and the write.
    assert redis_round_trips == [b"EVALSHA", b"SET", b"EVALSHA"]
    redis_round_trips.clear()
    post(api, second_key, 2)
    assert redis_round_trips == [b"EVALSHA"]


def test_a_minute_later_the_key_and_device_are_noted_again(
    api, device, device_key, redis_round_trips, django_assert_num_queries
):
    post(api, device_key)
    key_pk = device.api_keys.get().pk
    cache.delete_many([key_used_claim_name(key_pk), device_seen_claim_name(device.pk)])
    redis_round_trips.clear()

    with django_assert_num_queries(2 + INSERT):  # the two notes, the insert
        post(api, device_key, 1)

    assert redis_round_trips == [b"EVALSHA", b"SET"]  # the device's claim after the insert


def test_a_wrong_secret_counts_a_failure_and_no_write(api, device, device_key):
    post(api, device_key)
    wrong = device_key[:8] + device_key[8:].swapcase()

    response = post(api, wrong, 1)

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": errors.KEY_INVALID}
    failures = credential_failures_window(kind="key", ip="127.0.0.1")
    assert cache.get(failures.name) == 1
    assert writes(device) == 1


def test_naming_another_device_counts_no_write(api, device, device_key):
    post(api, device_key)

    response = post(api, device_key, 1, deviceId="esp32-02")

    assert response.status_code == 403
    assert writes(device) == 1


def test_bad_input_from_a_known_key_counts_no_write(api, device, device_key):
    post(api, device_key)

    assert post(api, device_key, 1, value="warm").status_code == 400
    assert writes(device) == 1


def test_a_new_write_rate_counts_from_the_next_post(api, tenant, device, device_key):
    post(api, device_key)

    tenant.write_rate = "2/m"
    tenant.save()
    response = post(api, device_key, 1)

    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("2", "1")


def test_revoking_a_key_this_process_knows_fails_the_next_post(api, device, device_key):
    post(api, device_key)

    key_revoke(prefix=device_key[:8])
    response = post(api, device_key, 1)

    assert response.status_code == 401
    assert Event.objects.count() == 1


def test_an_address_over_its_failure_limit_is_refused_before_the_key(
    api, settings, device, device_key
):
    settings.KEY_FAILURE_RATE = "2/m"
    post(api, device_key)
    for n in range(2):
        post(api, device_key[:20], n)

    response = post(api, device_key, 5)

    assert response.status_code == 429
    assert response.json()["error"].startswith(
        account_errors.TOO_MANY_KEY_FAILURES.format(ip="127.0.0.1", described="2 per minute")
    )
    assert writes(device) == 1
