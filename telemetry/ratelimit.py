"""Fixed-window rate limits on the shared cache (django-ratelimit's counters), answered
429 in our JSON shape with `Retry-After` and `RateLimit-*` headers.

A window's counter has django-ratelimit's cache key wherever it is counted: by its
`get_usage` (add, then incr or get: two round trips), by one Lua script on Redis here,
or inside a larger script of a caller that also counts (device-key admission)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django_ratelimit import ALL
from django_ratelimit import core as ratelimit_core
from django_redis.cache import RedisCache
from redis import Redis
from redis.commands.core import Script

from telemetry.errors import DomainError

UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
_RATE_RE = re.compile(r"^([0-9]+)/([0-9]*)([smhd])$")


class TooManyRequests(DomainError):
    status_code = 429


def rate_describe(rate: str) -> str:
    """`5/5s` → `5 per 5 seconds`, `60/m` → `60 per minute`."""
    count, multiplier, unit = _RATE_RE.match(rate).groups()
    if multiplier and multiplier != "1":
        return f"{count} per {multiplier} {UNITS[unit]}s"
    return f"{count} per {UNITS[unit]}"


@dataclass(frozen=True)
class Usage:
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends; at least 1, so clients always wait

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


@dataclass(frozen=True)
class Window:
    """The current window of `rate` for one value: its counter's cache key (unprefixed)."""

    name: str
    limit: int
    ends_at: int  # epoch seconds
    expiry: int  # seconds the counter is kept

    def usage(self, count: int) -> tuple[Usage, bool]:
        """Its usage at `count`, and whether that count is over the limit."""
        # The module's clock, so tests that freeze django-ratelimit's windows freeze this too.
        time_left = self.ends_at - int(ratelimit_core.time.time())
        # time_left is 0 for one-second windows.
        usage = Usage(self.limit, max(0, self.limit - count), max(1, time_left))
        return usage, count > self.limit


def window_of(*, group: str, value: str, rate: str) -> Window:
    """`value`'s current window of `rate` in `group`, as django-ratelimit's `get_usage` names
    and times it (its own helpers; the version is pinned and a test holds them together)."""
    limit, seconds = _split_rate(rate)
    ends_at = ratelimit_core._get_window(value, seconds)
    name = _window_name(group, ends_at, rate, value)
    return Window(name, limit, ends_at, seconds + ratelimit_core.EXPIRATION_FUDGE)


# Memoised: every device request asks for the same few, window after window (the name's
# settings, RATELIMIT_CACHE_PREFIX and RATELIMIT_HASH_ALGORITHM, are read once a name).
_split_rate = functools.lru_cache(maxsize=256)(ratelimit_core._split_rate)


@functools.lru_cache(maxsize=4096)
def _window_name(group: str, ends_at: int, rate: str, value: str) -> str:
    return ratelimit_core._make_cache_key(group, ends_at, rate, value, ALL)


@dataclass(frozen=True)
class Counted:
    """A window's count, already read or taken by the caller in a round trip of its own."""

    window: Window
    count: int


# Lua, so that counting is one round trip: INCR, and EXPIRE when it opens the window
# (what django-ratelimit's add-then-incr does in two).
INCREMENT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_INCREMENT = Script(None, INCREMENT_LUA.encode())
NO_LIMIT = Usage(limit=0, remaining=0, reset_seconds=1)  # RATELIMIT_ENABLE = False


def shared_redis(cache: BaseCache) -> Redis | None:
    """The Redis client behind `cache` when it is django-redis, else None."""
    return cache.client.get_client(write=True) if isinstance(cache, RedisCache) else None


def _usage(*, group: str, value: str, rate: str, increment: bool) -> tuple[Usage, bool]:
    """The window's usage (after this request when `increment`), and whether it is over."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return NO_LIMIT, False
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if (redis := shared_redis(cache)) is None:
        # django-ratelimit reads the request only for its method and key, both given here.
        usage = ratelimit_core.get_usage(None, group=group, rate=rate, increment=increment,
                                         key=lambda _group, _request: value)  # fmt: skip
        # time_left is -1 when the cache lost the counter (then limit 0, refused).
        return Usage(
            limit=usage["limit"],
            remaining=max(0, usage["limit"] - usage["count"]),
            reset_seconds=max(1, usage["time_left"]),
        ), usage["should_limit"]
    window = window_of(group=group, value=value, rate=rate)
    name = cache.make_key(window.name)
    if increment:
        return window.usage(_INCREMENT(keys=[name], args=[window.expiry], client=redis))
    return window.usage(int(redis.get(name) or 0))


def _refusal(usage: Usage, message: str) -> TooManyRequests:
    refusal = TooManyRequests(f"{message}; retry in {usage.reset_seconds} s")
    refusal.headers = {"Retry-After": str(usage.reset_seconds), **usage.headers()}
    return refusal


def limit_take(
    *, group: str, value: str, rate: str, message: str, counted: Counted | None = None
) -> Usage:
    """Count one request of `value` against `rate` (unless `counted` says it was counted
    already); over the limit, raise a 429 whose error is `message` (it should name it)."""
    if counted is not None:
        usage, over = counted.window.usage(counted.count)
    else:
        usage, over = _usage(group=group, value=value, rate=rate, increment=True)
    if over:
        raise _refusal(usage, message)
    return usage


def limit_check(
    *, group: str, value: str, rate: str, message: str, counted: Counted | None = None
) -> None:
    """Raise a 429 while `value` has used up `rate`, without counting this request
    (`counted`: the count the caller has read already)."""
    if counted is not None:
        usage, _ = counted.window.usage(counted.count)
    else:
        usage, _ = _usage(group=group, value=value, rate=rate, increment=False)
    if usage.limit and usage.remaining == 0:
        raise _refusal(usage, message)


def limit_count(*, group: str, value: str, rate: str) -> None:
    """Count one request of `value` against `rate`, refusing nothing."""
    _usage(group=group, value=value, rate=rate, increment=True)
