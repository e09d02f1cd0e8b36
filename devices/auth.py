"""Device-key authentication: the legacy `x-api-key` header.

`key_admit` admits one request. With the key cache (Redis), a key this process has
admitted before costs one round trip: a Lua script reads the address's failed-key count
and the key's cache entry and, only when the entry still starts with what this process
read last time (the presented key's digest included, so a wrong secret never gets that
far), takes the key's once-a-minute "last used" claim and, for a write, counts it against
the device's rate and reads whether the device's "last seen" claim is free. A key seen
for the first time, a changed or missing entry, or no Redis: the same steps, one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from redis.commands.core import Script
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.services import (
    client_ip,
    credential_failure_note,
    credential_failures_check,
    credential_failures_window,
)
from devices import errors
from devices.models import KEY_PREFIX_LENGTH, DeviceAPIKey
from devices.selectors import (
    DeviceCaller,
    key_authenticate,
    key_cache_redis,
    key_entry_head,
    key_entry_read,
    key_matches,
    key_read,
    key_well_formed,
)
from devices.services import (
    TOUCH_SECONDS,
    device_seen_claim_name,
    key_cache_name,
    key_digest,
    key_note_used,
    key_used_claim_name,
)
from telemetry.ratelimit import Counted, Window

# KEYS: the address's failed-key counter, the key's cache entry, the key's "last used"
#   claim; for a write also the device's write counter and its "last seen" claim.
# ARGV: the failure limit; the head the entry must start with for the rest to run (''
#   only reads; '*' skips the failures and the entry, which the caller has checked);
#   the claim's seconds; the write counter's expiry.
# Answers {failures} over the limit, {failures, entry} when it stopped there, else
#   {failures, entry, claimed} and for a write {..., writes, seen claim taken}.
ADMIT_LUA = """
local failures, entry = 0, false
if ARGV[2] ~= '*' then
  failures = tonumber(redis.call('GET', KEYS[1]) or '0')
  if failures >= tonumber(ARGV[1]) then return {failures} end
  entry = redis.call('GET', KEYS[2])
  if not entry or ARGV[2] == '' or string.sub(entry, 1, #ARGV[2] + 1) ~= ARGV[2] .. '\\n' then
    return {failures, entry}
  end
end
local claimed = redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) and 1 or 0
if #KEYS == 3 then return {failures, entry, claimed} end
local writes = redis.call('INCR', KEYS[4])
if writes == 1 then redis.call('EXPIRE', KEYS[4], ARGV[4]) end
return {failures, entry, claimed, writes, redis.call('EXISTS', KEYS[5])}
"""
_ADMIT = Script(None, ADMIT_LUA.encode())

# A device's write counter, from `device_pk` and its tenant's write `rate`.
WriteWindow = Callable[..., Window]


@dataclass(frozen=True)
class Admission:
    caller: DeviceCaller
    write: Counted | None = None  # this request's write, counted against the device's rate
    seen_due: bool = True  # no request has noted the device seen this minute


@dataclass(frozen=True)
class _LastRead:
    """What this process last read in a key's cache entry: the head after the digest,
    and the names it derives the key's claim and the device's counters from."""

    head_tail: str
    key_pk: int
    device_pk: int
    device_id: str
    write_rate: str


_last_read: dict[str, _LastRead] = {}  # by key prefix
_LAST_READ_MAX = 100_000


def _remember(prefix: str, key: DeviceAPIKey) -> _LastRead:
    if len(_last_read) >= _LAST_READ_MAX:
        _last_read.clear()
    device = key.device
    last = _LastRead(
        key_entry_head(key)[len(key.digest) :],
        key.pk,
        device.pk,
        device.device_id,
        device.tenant.write_rate,
    )
    _last_read[prefix] = last
    return last


def _admit_step_by_step(*, raw_key: str, ip: str) -> Admission:
    credential_failures_check(kind="key", ip=ip)
    key = key_authenticate(raw_key=raw_key)
    if key is None:
        credential_failure_note(kind="key", ip=ip)
        raise AuthenticationFailed(errors.KEY_INVALID)
    key_note_used(key=key, now=timezone.now())
    return Admission(DeviceCaller(key=key))


def key_admit(
    *, raw_key: str, ip: str, writes: WriteWindow | None = None, device_id: str | None = None
) -> Admission:
    """Admit a request with `raw_key` from `ip`: 429 while the address has failed too often,
    401 for a wrong or revoked key; notes the key used. For a write (`writes` names the
    device's counter) counts it against the device's rate, unless the request names
    another device than the key's (`device_id`; the caller refuses that)."""
    redis = key_cache_redis()
    limits_on = getattr(settings, "RATELIMIT_ENABLE", True)
    if redis is None or not key_well_formed(raw_key) or not limits_on:
        return _admit_step_by_step(raw_key=raw_key, ip=ip)
    cache = caches["default"]
    prefix, digest = raw_key[:KEY_PREFIX_LENGTH], key_digest(raw_key)
    failures = credential_failures_window(kind="key", ip=ip)
    read = [cache.make_key(failures.name), cache.make_key(key_cache_name(prefix))]

    def run(head: str, last: _LastRead) -> tuple[list, Window | None]:
        """The script with the claim and, for a write of the key's device, the counters."""
        names = [key_used_claim_name(last.key_pk)]
        window = None
        if writes is not None and device_id in (None, last.device_id):
            window = writes(device_pk=last.device_pk, rate=last.write_rate)
            names += [window.name, device_seen_claim_name(last.device_pk)]
        keys = read + [cache.make_key(name) for name in names]
        args = [failures.limit, head, TOUCH_SECONDS, window.expiry if window else 0]
        return _ADMIT(keys=keys, args=args, client=redis), window

    last = _last_read.get(prefix)
    if last is not None:
        reply, window = run(digest + last.head_tail, last)
    else:
        reply, window = _ADMIT(keys=read, args=[failures.limit, ""], client=redis), None
    if reply[0] >= failures.limit:  # the refusal the check below words
        credential_failures_check(kind="key", ip=ip, counted=Counted(failures, reply[0]))
    key = key_entry_read(reply[1]) if reply[1] is not None else key_read(prefix)
    if not key_matches(key, digest=digest):
        credential_failure_note(kind="key", ip=ip)
        raise AuthenticationFailed(errors.KEY_INVALID)
    if len(reply) == 2:  # the entry was not what this process last read, or missing
        reply, window = run("*", _remember(prefix, key))
    claimed, *write = reply[2:]
    key_note_used(key=key, now=timezone.now(), claimed=bool(claimed))
    if not write:
        return Admission(DeviceCaller(key=key))
    writes_count, seen_claimed = write
    return Admission(DeviceCaller(key=key), Counted(window, writes_count), not seen_claimed)


class DeviceKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[DeviceCaller, DeviceAPIKey] | None:
        raw_key = request.META.get("HTTP_X_API_KEY")
        if raw_key is None:
            return None  # let the next scheme (JWT) try
        caller = key_admit(raw_key=raw_key.strip(), ip=client_ip(request)).caller
        return caller, caller.key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401, not 403, to a request without credentials.
        return 'Bearer realm="api", ApiKey header="x-api-key"'
