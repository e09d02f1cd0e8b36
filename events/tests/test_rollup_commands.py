"""The rollup and purge_events commands, and rebuilding after a time zone change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.models import Event, Rollup
from events.serializers import Reading
from events.services import event_ingest
from events.services.rollup import tenant_time_zone_change
from telemetry.celery import app as celery_app

T = datetime(2026, 1, 10, 9, 50, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_grace(settings):
    settings.PURGE_GRACE_SECONDS = 0


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def post(device, ts, state="ON"):
    event_ingest(device=device, reading=Reading("pump", ts, state=state), received_at=T)


def test_rollup_with_no_option_does_the_scheduled_job(device):
    post(device, T)

    lines = run("rollup")

    assert lines == ["Rolled up 1 channels: 2 rows written."]
    assert Rollup.objects.count() == 2


def test_rollup_rebuilds_a_tenant_with_progress(device, other_device):
    post(device, T)
    post(device, T + timedelta(days=3), "OFF")
    post(other_device, T)

    lines = run("rollup", "--tenant", "acme")

    assert lines[0] == "Rebuilding rollups of acme"
    assert lines[-1] == "Rebuilt 1 channels: 2 hourly and 2 daily rows."
    assert Rollup.objects.filter(device=other_device).count() == 0


def test_rollup_rebuilds_one_device_over_a_range(device):
    post(device, T)
    post(device, T + timedelta(days=3), "OFF")

    lines = run(
        "rollup", "--tenant", "acme", "--device", "esp32-01", "--since", "2026-01-12T00:00:00Z"
    )

    assert lines[-1] == "Rebuilt 1 channels: 1 hourly and 1 daily rows."
    assert Rollup.objects.filter(bucket_start__lt=T + timedelta(days=1)).count() == 0


@pytest.mark.parametrize(
    ("args", "gist"),
    [
        (["--device", "esp32-01"], "need --tenant"),
        (["--tenant", "nope"], "no tenant"),
        (["--tenant", "acme", "--device", "nope"], "device not found"),
        (["--tenant", "acme", "--since", "yesterday"], "since must be"),
    ],
)
def test_rollup_refuses_bad_options(device, args, gist):
    with pytest.raises(CommandError, match=gist):
        run("rollup", *args)


def test_purge_events_reports_and_deletes(device):
    post(device, datetime.now(UTC) - timedelta(days=61))

    dry = run("purge_events", "--dry-run")
    real = run("purge_events")

    assert dry[0].startswith("acme: would delete 1 events before ")
    assert real[-1] == "Total: deleted 1 events."
    assert Event.objects.count() == 0


def test_changing_the_time_zone_rebuilds_the_rollups_in_the_new_zone(
    device, tenant, eager_celery, django_capture_on_commit_callbacks
):
    post(device, T)
    run("rollup")

    with django_capture_on_commit_callbacks(execute=True):
        tenant_time_zone_change(tenant=tenant, time_zone="Asia/Kolkata")

    hour = Rollup.objects.get(period="hour")
    day = Rollup.objects.get(period="day")
    assert hour.bucket_start == datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    assert (day.time_zone, day.bucket_start) == (
        "Asia/Kolkata",
        datetime(2026, 1, 9, 18, 30, tzinfo=UTC),
    )
