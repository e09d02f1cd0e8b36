"""Plain factory functions for tests; related objects stay in one tenant."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role, Tenant, User
from accounts.services import tenant_create, user_create
from devices.models import Device
from devices.services import device_register, key_create
from events.serializers import Reading
from events.services import IngestResult, events_ingest_batch
from events.services.rollup import rollup_run
from events.simulator import DEFAULT_PROGRAM_SPECS, events_simulate, programs_parse

PASSWORD = "correct-horse-battery-staple"


def make_tenant(slug: str, **fields) -> Tenant:
    return tenant_create(slug=slug, name=slug.title(), **fields)


def make_user(tenant: Tenant | None, username: str, role: str = Role.MEMBER) -> User:
    if tenant is None:
        return User.objects.create_superuser(username=username, password=PASSWORD)
    return user_create(tenant=tenant, username=username, password=PASSWORD, role=role)


def make_device(tenant: Tenant, device_id: str = "esp32-01") -> Device:
    return device_register(tenant=tenant, device_id=device_id)


def make_key(device: Device) -> str:
    return key_create(device=device).raw_key


def bearer(user: User) -> dict[str, str]:
    """Headers for APIClient calls authenticated as `user` with a fresh access token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


def key_header(raw_key: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": raw_key}


def seed_simulated(device: Device, *, days: int, now: datetime | None = None) -> int:
    """Store `days` of the simulated pool controller's events up to `now` through the
    batch service (1000 at a time), then roll them up; returns the number stored."""
    now = now or datetime.now(UTC)
    events = events_simulate(
        start=now - timedelta(days=days),
        end=now,
        programs=programs_parse(DEFAULT_PROGRAM_SPECS),
        zone=ZoneInfo(device.tenant.time_zone),
        seed=7,
    )
    stored = 0
    while chunk := list(islice(events, 1000)):
        readings = [
            Reading(e.channel, e.ts, value=e.reading)
            if isinstance(e.reading, float)
            else Reading(e.channel, e.ts, state=e.reading)
            for e in chunk
        ]
        outcomes = events_ingest_batch(device=device, items=readings, received_at=now)
        stored += sum(outcome.result == IngestResult.STORED for outcome in outcomes)
    rollup_run(now=now)
    return stored


def free_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]
