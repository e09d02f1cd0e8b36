"""The cast (STYLE.md): tenant `acme` with ada (admin), alice (member), bob (viewer)
and device esp32-01; `globex` with charlie (member) and its own esp32-01. Operators
use pytest-django's `admin_client` (a superuser of no tenant)."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache, caches
from django.test import Client
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from accounts.models import Role
from testsupport import free_port, make_device, make_key, make_tenant, make_user

# Browser fixtures (live_url, browser, open_page) for the page tests.
pytest_plugins = ["testsupport.browser"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (never skip) tests whose service this run does not point at."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    available = {
        "postgres": on_postgres,
        "sqlite": not on_postgres,
        "redis": bool(os.environ.get("REDIS_URL")),
    }
    keep, drop = [], []
    for item in items:
        needs = [name for name, present in available.items() if item.get_closest_marker(name)]
        (keep if all(available[name] for name in needs) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; ids repeat across tests, so start empty."""
    cache.clear()


@pytest.fixture
def frozen_rate_window(monkeypatch):
    """Rate-limit windows are fixed: freeze their clock, so no window ends mid-test."""
    frozen = time.time()
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: frozen))


@pytest.fixture
def redis_down(settings):
    """The cache is a real Redis client pointed at a port where nothing listens."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    yield
    caches["default"].close()


@pytest.fixture
def redis_round_trips(monkeypatch) -> list[bytes]:
    """The commands sent to Redis from now on, one item a round trip (a script is one)."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def send(self, command, check_health=True):
        packed = command if isinstance(command, bytes) else b"".join(command)
        sent.append(packed.split(b"\r\n")[2])  # the first word of the (first) command
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
    return sent


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def client_factory():
    """Another browser, e.g. a second user's, beside the `client` fixture."""
    return Client


@pytest.fixture
def tenant(db):
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db):
    return make_tenant("globex")


@pytest.fixture
def ada(tenant):
    return make_user(tenant, "ada", Role.ADMIN)


@pytest.fixture
def ada_client(client, ada):
    """A browser logged in as acme's admin."""
    client.force_login(ada)
    return client


@pytest.fixture
def alice(tenant):
    return make_user(tenant, "alice", Role.MEMBER)


@pytest.fixture
def bob(tenant):
    return make_user(tenant, "bob", Role.VIEWER)


@pytest.fixture
def charlie(other_tenant):
    return make_user(other_tenant, "charlie", Role.MEMBER)


@pytest.fixture
def device(tenant):
    return make_device(tenant, "esp32-01")


@pytest.fixture
def other_device(other_tenant):
    return make_device(other_tenant, "esp32-01")


@pytest.fixture
def device_key(device) -> str:
    return make_key(device)


@pytest.fixture
def other_device_key(other_device) -> str:
    return make_key(other_device)
