"""create_tenant, create_user, create_device, create_key, revoke_key, seed_demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from accounts import errors as account_errors
from accounts.models import Tenant, User
from devices.models import Device, DeviceAPIKey
from devices.selectors import key_authenticate
from devices.services import key_digest


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_tenant_stores_the_options(db):
    run(
        "create_tenant",
        "pool",
        "--name",
        "Pool Co",
        "--time-zone",
        "Europe/Madrid",
        "--retention-days",
        "90",
        "--write-rate",
        "10/5s",
    )

    tenant = Tenant.objects.get(slug="pool")
    assert (tenant.name, tenant.time_zone, tenant.raw_retention_days, tenant.write_rate) == (
        "Pool Co",
        "Europe/Madrid",
        90,
        "10/5s",
    )


def test_create_tenant_refuses_an_existing_slug(tenant):
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "acme")


@pytest.mark.parametrize(
    ("option", "value", "gist"),
    [("--time-zone", "Mars/Olympus", "IANA"), ("--write-rate", "fast", "rate like")],
)
def test_create_tenant_refuses_bad_settings(db, option, value, gist):
    with pytest.raises(CommandError, match=gist):
        run("create_tenant", "pool", option, value)
    assert not Tenant.objects.exists()


@pytest.mark.parametrize("days", ["0", "-1", "36501", "1000000"])
def test_create_tenant_refuses_a_retention_outside_1_to_36500_days(db, days):
    with pytest.raises(CommandError) as refused:
        run("create_tenant", "pool", "--retention-days", days)

    assert str(refused.value) == account_errors.RETENTION_DAYS_RANGE.format(limit=36500)
    assert not Tenant.objects.exists()


@pytest.mark.parametrize("days", ["1", "36500"])
def test_create_tenant_accepts_a_retention_of_1_to_36500_days(db, days):
    run("create_tenant", "pool", "--retention-days", days)

    assert Tenant.objects.get(slug="pool").raw_retention_days == int(days)


@pytest.mark.parametrize("days", [0, 36501])
def test_the_database_refuses_a_retention_outside_the_range_too(tenant, days):
    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(raw_retention_days=days)

    tenant.refresh_from_db()
    assert tenant.raw_retention_days == 60


def test_create_user_generates_and_prints_a_password(tenant):
    lines = run("create_user", "acme", "dora", "--role", "viewer")

    password = lines[-1].removeprefix("Password: ")
    user = User.objects.get(username="dora")
    assert (user.tenant, user.role) == (tenant, "viewer")
    assert user.check_password(password)


def test_create_user_refuses_an_existing_username(alice, other_tenant):
    with pytest.raises(CommandError, match="already exists"):
        run("create_user", "globex", "alice", "--password", "another-long-password")


def test_create_user_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="no tenant"):
        run("create_user", "nope", "dora")


def test_create_device_prints_a_working_key_alone_on_the_last_line(tenant):
    raw_key = run("create_device", "acme", "esp32-pool-01", "--name", "Pool")[-1]

    device = Device.objects.get(device_id="esp32-pool-01")
    assert key_authenticate(raw_key=raw_key).device == device
    assert len(raw_key) == 40 and raw_key.isalnum() and raw_key.isascii()


def test_keys_are_stored_as_prefix_and_digest_only(tenant):
    raw_key = run("create_device", "acme", "esp32-pool-01")[-1]

    stored = DeviceAPIKey.objects.values().get()
    assert stored["prefix"] == raw_key[:8]
    assert stored["digest"] == key_digest(raw_key)
    assert raw_key not in str(stored)


def test_the_same_device_id_may_exist_in_two_tenants(tenant, other_tenant):
    run("create_device", "acme", "esp32-01")
    run("create_device", "globex", "esp32-01")

    assert Device.objects.filter(device_id="esp32-01").count() == 2


def test_create_device_refuses_an_existing_id_in_the_tenant(device):
    with pytest.raises(CommandError, match="already exists"):
        run("create_device", "acme", "esp32-01")


def test_create_device_refuses_a_malformed_id(tenant):
    with pytest.raises(CommandError, match="letters, digits"):
        run("create_device", "acme", "bad id")


def test_create_key_adds_a_second_working_key(device, device_key):
    second = run("create_key", "acme", "esp32-01")[-1]

    assert second != device_key
    assert key_authenticate(raw_key=second).device == device
    assert key_authenticate(raw_key=device_key).device == device


def test_create_key_refuses_an_unknown_device(tenant):
    with pytest.raises(CommandError, match="device not found"):
        run("create_key", "acme", "nope")


def test_revoke_key_stops_that_key_only(device, device_key):
    second = run("create_key", "acme", "esp32-01")[-1]

    run("revoke_key", device_key[:8])

    assert key_authenticate(raw_key=device_key) is None
    assert key_authenticate(raw_key=second) is not None


def test_revoke_key_refuses_unknown_and_revoked_prefixes(device, device_key):
    run("revoke_key", device_key[:8])
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke_key", device_key[:8])
    with pytest.raises(CommandError, match="no API key"):
        run("revoke_key", "zzzzzzzz")


def test_seed_demo_creates_once_and_then_explains(db):
    first = run("seed_demo")
    second = run("seed_demo")

    raw_key = first[-1].removeprefix("Device key: ")
    assert key_authenticate(raw_key=raw_key).device.device_id == "esp32-01"
    password = first[0].split(" / ")[1]
    assert User.objects.get(username="demo").check_password(password)
    assert "create_key demo esp32-01" in second[-1]
    assert "changepassword demo" in second[0]
    assert DeviceAPIKey.objects.count() == 1


@pytest.mark.parametrize(
    "command", ["create_tenant", "create_user", "create_device", "create_key", "revoke_key"]
)
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command(command, "--help")
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out
