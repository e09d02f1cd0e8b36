"""On Redis a rate-limit count is one round trip, on the very counter django-ratelimit
keeps for the same group, value and rate (both sides read what the other counted)."""

from __future__ import annotations

import pytest
from django_ratelimit.core import get_usage

from telemetry.ratelimit import TooManyRequests, limit_check, limit_take

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("frozen_rate_window")]

LIMIT = {"group": "tests", "value": "203.0.113.5", "rate": "3/m"}


def counted_by_django_ratelimit() -> int:
    usage = get_usage(None, group="tests", key=lambda *_: "203.0.113.5", rate="3/m")
    return usage["count"]


def test_a_take_is_one_round_trip_on_django_ratelimits_counter(redis_round_trips):
    usage = limit_take(**LIMIT, message="too many")

    assert redis_round_trips == [b"EVALSHA"]
    assert (usage.limit, usage.remaining) == (3, 2)
    assert counted_by_django_ratelimit() == 1


def test_a_check_is_one_get_of_what_django_ratelimit_counted(redis_round_trips):
    for _ in range(3):
        get_usage(None, group="tests", key=lambda *_: "203.0.113.5", rate="3/m", increment=True)
    redis_round_trips.clear()

    with pytest.raises(TooManyRequests) as refused:
        limit_check(**LIMIT, message="too many")

    assert redis_round_trips == [b"GET"]
    assert refused.value.headers["RateLimit-Remaining"] == "0"


def test_the_take_over_the_limit_is_refused_with_retry_after():
    for _ in range(3):
        limit_take(**LIMIT, message="too many")

    with pytest.raises(TooManyRequests) as refused:
        limit_take(**LIMIT, message="too many")

    assert refused.value.message.startswith("too many; retry in ")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
