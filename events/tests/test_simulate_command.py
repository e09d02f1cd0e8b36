"""`simulate` against a live server over real HTTP: backfill, live mode, and its errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils import timezone

from devices.services import key_revoke
from events.models import Event
from testsupport import free_port

ROOT = Path(__file__).resolve().parents[2]
TWO_PROGRAMS = ["daily@09:00/120/1", "daily@16:00/60/2"]


@pytest.fixture(autouse=True)
def prompt_test_server(monkeypatch):
    """The test server sends headers and body in two writes; with Nagle's algorithm
    on, each answer waits for the client's delayed ACK (~40 ms). Gunicorn sends one."""
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def rows(device, channel):
    return list(
        Event.objects.filter(device=device, channel=channel)
        .order_by("ts")
        .values_list("ts", "state")
    )


@pytest.mark.django_db(transaction=True)
def test_a_day_of_backfill_stores_every_event_and_a_second_run_only_duplicates(
    live_server, device, device_key
):
    args = ["--url", live_server.url, "--key", device_key, "--days", "1", "--seed", "3"]
    args += [arg for spec in TWO_PROGRAMS for arg in ("--program", spec)]
    out = simulate(*args)
    stored = Event.objects.filter(device=device).count()
    assert "Backfilling " in out and " 50%  " in out and " 90%  " in out
    assert f"Posted {stored} events: {stored} stored, 0 duplicate, 0 errors" in out

    # A reading every minute of the day, ending before now.
    temperatures = Event.objects.filter(device=device, channel="temperature")
    assert temperatures.count() == 24 * 60
    assert temperatures.latest("ts").ts <= timezone.now()
    assert all(20 <= value <= 29 for value in temperatures.values_list("value", flat=True))
    # Both programs ran once in the day (09:00 and 16:00 UTC), each with its valve mode.
    pump, valve = rows(device, "pump"), rows(device, "valve")
    program_starts = [ts for ts, state in pump if state == "ON" and ts.minute == 0]
    assert sorted(ts.hour for ts in program_starts) == [9, 16]
    assert {state for _, state in valve} <= {"1", "2"}
    valve_at = dict(valve)
    for start in program_starts:
        assert valve_at[start] == ("1" if start.hour == 9 else "2")
        length = timedelta(minutes=120 if start.hour == 9 else 60)
        later = [ts for ts, state in pump if ts > start]
        if later:
            assert later[0] - start == length
        else:  # the run outlasted the backfill, which stops at now: no OFF yet
            assert start + length > temperatures.latest("ts").ts
            assert pump[-1] == (start, "ON")

    again = simulate(*args)
    assert Event.objects.filter(device=device).count() - stored <= 2  # the span moved a little
    summary = again.splitlines()[-1]
    assert " 0 errors in " in summary
    duplicates = int(summary.split(" stored, ")[1].split(" duplicate")[0])
    assert duplicates >= stored - 2


@pytest.mark.django_db(transaction=True)
def test_live_mode_posts_as_time_passes_until_interrupted(live_server, device, device_key):
    env = {**os.environ, "KEY": device_key}
    started = timezone.now()
    # A program starting two minutes from now: 0.2 s away at 600x.
    program = f"daily@{started + timedelta(minutes=2):%H:%M}/60/2"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate", "--url", live_server.url, "--speed", "600",
         "--seed", "5", "--program", program],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while Event.objects.filter(device=device, channel="temperature").count() < 4:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no temperature arrived in 30 s"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Live from " in out and "Stopped." in out
    stored = Event.objects.filter(device=device).count()
    assert f"Posted {stored} events: {stored} stored, 0 duplicate, 0 errors" in out
    # Stamped with the real time they were sent: after the start, never in the future.
    stamps = list(Event.objects.filter(device=device).values_list("ts", flat=True))
    assert all(started - timedelta(seconds=1) <= ts <= timezone.now() for ts in stamps)
    # The program's run: valve mode 2 and the pump ON in the same instant.
    (pump_on,) = rows(device, "pump")
    assert pump_on[1] == "ON"
    assert rows(device, "valve") == [(pump_on[0], "2")]


@pytest.mark.django_db(transaction=True)
def test_a_refused_key_stops_the_run_with_the_servers_reason(live_server, device, device_key):
    key_revoke(prefix=device_key[:8])
    with pytest.raises(CommandError, match=r"refused the key \(401\)"):
        simulate("--url", live_server.url, "--key", device_key, "--days", "1")
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_another_devices_id_is_refused_as_the_server_answers(live_server, device, device_key):
    with pytest.raises(CommandError, match=r"refused the key \(403\)"):
        simulate("--url", live_server.url, "--key", device_key, "--days", "1",
                 "--device-id", "esp32-99")  # fmt: skip
    assert not Event.objects.exists()


def test_an_unreachable_server_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match=f"cannot reach {url}: connection refused"):
        simulate("--url", url, "--key", "k" * 40, "--days", "1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the device's API key"),
        (["--key", "k", "--url", "ftp://host"], "--url must look like http://host:port"),
        (["--key", "k", "--days", "0"], "--days must be from 1 to 365"),
        (["--key", "k", "--days", "2", "--speed", "10"], "--speed only applies to live mode"),
        (["--key", "k", "--speed", "0"], "--speed must be above 0"),
        (["--key", "k", "--time-zone", "Mars/Olympus"], "is not an IANA zone"),
        (["--key", "k", "--program", "daily@25:00/10/1"], "the start must be HH:MM"),
        (["--key", "k"] + ["--program", "daily@01:00/1/1"] * 4, "at most 3 programs"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(args, message, monkeypatch):
    monkeypatch.delenv("KEY", raising=False)
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        simulate(*args)
