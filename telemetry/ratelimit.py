"""Fixed-window rate limits on the shared cache (django-ratelimit's counters), answered
429 in our JSON shape with `Retry-After` and `RateLimit-*` headers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django_ratelimit.core import get_usage

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


def _usage(*, group: str, value: str, rate: str, increment: bool) -> tuple[Usage, bool]:
    """The window's usage, and whether this request is over the limit."""
    # django-ratelimit reads the request only for its method and key, both given here.
    usage = get_usage(None, group=group, key=lambda _group, _request: value, rate=rate,
                      increment=increment)  # fmt: skip
    if usage is None:  # RATELIMIT_ENABLE = False
        return Usage(limit=0, remaining=0, reset_seconds=1), False
    # time_left is 0 for one-second windows and -1 when the cache lost the counter.
    return Usage(
        limit=usage["limit"],
        remaining=max(0, usage["limit"] - usage["count"]),
        reset_seconds=max(1, usage["time_left"]),
    ), usage["should_limit"]


def _refusal(usage: Usage, message: str) -> TooManyRequests:
    refusal = TooManyRequests(f"{message}; retry in {usage.reset_seconds} s")
    refusal.headers = {"Retry-After": str(usage.reset_seconds), **usage.headers()}
    return refusal


def limit_take(*, group: str, value: str, rate: str, message: str) -> Usage:
    """Count one request of `value` against `rate`; over the limit, raise a 429 whose
    error is `message` (it should name the limit)."""
    usage, over = _usage(group=group, value=value, rate=rate, increment=True)
    if over:
        raise _refusal(usage, message)
    return usage


def limit_check(*, group: str, value: str, rate: str, message: str) -> None:
    """Raise a 429 while `value` has used up `rate`, without counting this request."""
    usage, _ = _usage(group=group, value=value, rate=rate, increment=False)
    if usage.limit and usage.remaining == 0:
        raise _refusal(usage, message)


def limit_count(*, group: str, value: str, rate: str) -> None:
    """Count one request of `value` against `rate`, refusing nothing."""
    _usage(group=group, value=value, rate=rate, increment=True)
