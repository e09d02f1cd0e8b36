"""Act as the ESP32 pool controller against a running server, over real HTTP.

Thin on purpose: the timeline comes from events.simulator; this command only
paces it, posts it on one kept-alive connection and counts the answers.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from events.serializers import to_epoch_ms, truncate_to_ms
from events.simulator import (
    DEFAULT_PROGRAM_SPECS,
    MAX_PROGRAMS,
    TEMPERATURE,
    Program,
    ProgramError,
    SimulatedEvent,
    events_simulate,
    programs_parse,
)

DEFAULT_URL = "http://127.0.0.1:8000"
EVENT_PATH = "/api/event"
BATCH_PATH = "/api/events"
BATCH_SIZE = 1000  # the most /api/events takes in one request
TIMEOUT_SECONDS = 10
MAX_DAYS = 365
MAX_SPEED = 3600  # an hour a second; faster, two pump changes could share a millisecond
SHOWN_ERRORS = 5
BUSY_STATUSES = (429, 503)  # rate limited, database busy: wait and send the event again
BUSY_RETRIES = 10
MAX_RETRY_AFTER_SECONDS = 60
LIVE_REPORT_SECONDS = 60
LIVE_BACKOFF_SECONDS = (1, 2, 5, 10, 30)


class Unreachable(Exception):
    """The server could not be reached, even after reconnecting once."""


def _now() -> datetime:
    return timezone.now()


def _wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


@dataclass
class Answer:
    status: int
    text: str
    retry_after: str | None


class Poster:
    """POSTs events to /api/event on one kept-alive connection, reconnecting when it drops."""

    def __init__(self, *, url: str, key: str, device_id: str | None) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise CommandError(f"--url must look like http://host:port, not {url!r}")
        self.url = url.rstrip("/")
        base = parts.path.rstrip("/")
        self._event_path, self._batch_path = base + EVENT_PATH, base + BATCH_PATH
        https = parts.scheme == "https"
        self._factory = http.client.HTTPSConnection if https else http.client.HTTPConnection
        self._host, self._port = parts.hostname, port
        self._headers = {"x-api-key": key, "Content-Type": "application/json"}
        self._device_id = device_id
        self._connection: http.client.HTTPConnection | None = None

    def connect(self) -> None:
        """Open the connection now, so a wrong URL fails before anything is simulated."""
        self.close()
        try:
            self._open()
        except OSError as exc:
            self.close()
            raise Unreachable(_reason(exc)) from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = self._factory(self._host, self._port, timeout=TIMEOUT_SECONDS)
            self._connection.connect()
        return self._connection

    def _exchange(self, path: str, payload: bytes) -> Answer:
        connection = self._open()
        connection.request("POST", path, body=payload, headers=self._headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Answer(response.status, text, response.getheader("Retry-After"))

    def _send(self, path: str, body: dict[str, Any]) -> Answer:
        """POST `body`; a request cut off mid-way is sent again on a fresh connection
        (if the first one was stored after all, the server answers `duplicate`)."""
        if self._device_id is not None:
            body = {"deviceId": self._device_id, **body}
        payload = json.dumps(body).encode()
        try:
            return self._exchange(path, payload)
        except (OSError, http.client.HTTPException):
            self.close()  # e.g. the server dropped the kept-alive connection while idle
        try:
            return self._exchange(path, payload)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unreachable(_reason(exc)) from None

    def post(self, *, channel: str, reading: str | float, ts: datetime) -> Answer:
        """One event to /api/event."""
        return self._send(self._event_path, _event_body(channel, reading, ts))

    def post_batch(self, events: list[SimulatedEvent]) -> Answer:
        """Several events, at their own times, to /api/events in one request."""
        bodies = [_event_body(event.channel, event.reading, event.ts) for event in events]
        return self._send(self._batch_path, {"events": bodies})


def _event_body(channel: str, reading: str | float, ts: datetime) -> dict[str, Any]:
    field = "state" if isinstance(reading, str) else "value"
    return {"channel": channel, field: reading, "ts": to_epoch_ms(ts)}


@dataclass
class Tally:
    stored: int = 0
    duplicate: int = 0
    errors: int = 0

    @property
    def posted(self) -> int:
        return self.stored + self.duplicate + self.errors

    def __str__(self) -> str:
        return f"{self.stored} stored, {self.duplicate} duplicate, {self.errors} errors"


def _result(answer: Answer) -> str | None:
    """`stored` or `duplicate` from a 200 answer; None for anything else."""
    if answer.status != 200:
        return None
    try:
        result = json.loads(answer.text).get("result")
    except (ValueError, AttributeError):
        return None
    return result if result in ("stored", "duplicate") else None


def _error_message(answer: Answer) -> str:
    try:
        return str(json.loads(answer.text)["error"])
    except (ValueError, KeyError, TypeError):
        return answer.text[:300]


class Command(BaseCommand):
    help = (
        "Act as the ESP32 pool controller: post its valve, pump and temperature events over "
        "HTTP, either backfilling --days past days up to now in batches of 1000 to "
        "<url>/api/events and exiting, or live, one by one to <url>/api/event as they happen, "
        "until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default=DEFAULT_URL, help=f"the server's base URL (default {DEFAULT_URL})"
        )
        parser.add_argument(
            "--key", help="the device's API key (required; default: the KEY environment variable)"
        )
        parser.add_argument(
            "--device-id",
            help="deviceId to send in each event (default: none, so the key's own device)",
        )
        parser.add_argument(
            "--days",
            type=int,
            help=f"backfill the N days (1..{MAX_DAYS}) ending now as fast as the server "
            "answers, then exit; without it, run live until Ctrl-C",
        )
        parser.add_argument(
            "--speed",
            type=float,
            help=f"live mode only: run the controller's clock X times faster (up to {MAX_SPEED}), "
            "for demos; events are stamped with the real time they are sent (default 1)",
        )
        parser.add_argument(
            "--time-zone",
            default="UTC",
            help="IANA zone whose local time the programs follow, e.g. Europe/Madrid (default UTC)",
        )
        parser.add_argument(
            "--program",
            action="append",
            metavar="DAYS@HH:MM/MINUTES/MODE",
            help="a weekly program: weekdays (mon..sun, comma-separated, or daily), local start "
            "time, minutes to run, valve mode 1 or 2, e.g. mon,wed,fri@08:00/120/1; repeat for "
            f"up to {MAX_PROGRAMS} (default: {' and '.join(DEFAULT_PROGRAM_SPECS)})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            help="seed for the readings' noise and the occasional manual run; the same seed "
            "gives the same events (default: random, printed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = (options["key"] or os.environ.get("KEY") or "").strip()
        if not key:
            raise CommandError("give the device's API key with --key or the KEY variable")
        days, speed = options["days"], options["speed"]
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}")
        if days is not None and speed is not None:
            raise CommandError("--speed only applies to live mode (without --days)")
        speed = 1.0 if speed is None else speed
        if not 0 < speed <= MAX_SPEED:
            raise CommandError(f"--speed must be above 0 and at most {MAX_SPEED}")
        try:
            programs = programs_parse(options["program"] or DEFAULT_PROGRAM_SPECS)
        except ProgramError as exc:
            raise CommandError(str(exc)) from None
        try:
            zone = ZoneInfo(options["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(
                f"--time-zone {options['time_zone']!r} is not an IANA zone, e.g. Europe/Madrid"
            ) from None
        seed = options["seed"]
        if seed is None:
            seed = random.SystemRandom().randrange(1_000_000)
        poster = Poster(url=options["url"], key=key, device_id=options["device_id"])
        try:
            poster.connect()
        except Unreachable as exc:
            raise CommandError(f"cannot reach {poster.url}: {exc}") from None
        self.stdout.write(self._about(poster, options["device_id"], programs, zone, seed))
        timeline = {"programs": programs, "zone": zone, "seed": seed}
        try:
            if days is not None:
                self._backfill(poster, timeline, days=days, verbosity=options["verbosity"])
            else:
                self._live(poster, timeline, speed=speed, verbosity=options["verbosity"])
        finally:
            poster.close()

    def _about(
        self,
        poster: Poster,
        device_id: str | None,
        programs: tuple[Program, ...],
        zone: ZoneInfo,
        seed: int,
    ) -> str:
        device = device_id or "the key's own device"
        listed = ", ".join(str(program) for program in programs)
        return f"Simulating {device} at {poster.url}: programs {listed} ({zone}), seed {seed}."

    def _patiently(self, poster: Poster, send: Callable[[], Answer]) -> Answer:
        """`send()`, again after the server's Retry-After while it is busy; a refused key
        stops everything."""
        for _ in range(BUSY_RETRIES):
            answer = send()
            if answer.status not in BUSY_STATUSES:
                break
            try:
                delay = float(answer.retry_after or 1)
            except ValueError:
                delay = 1.0
            _wait(min(max(delay, 0.1), MAX_RETRY_AFTER_SECONDS))
        if answer.status in (401, 403):
            raise CommandError(
                f"{poster.url} refused the key ({answer.status}): {_error_message(answer)}"
            )
        return answer

    def _error(self, tally: Tally, event: SimulatedEvent, ts: datetime, text: str) -> None:
        tally.errors += 1
        if tally.errors <= SHOWN_ERRORS:
            self.stderr.write(
                f"Error for {event.channel}={event.reading} at {ts.isoformat()}: {text[:300]}"
            )

    def _count(self, tally: Tally, event: SimulatedEvent, ts: datetime, result: str | None,
               error: str) -> None:  # fmt: skip
        if result == "stored":
            tally.stored += 1
        elif result == "duplicate":
            tally.duplicate += 1
        else:
            self._error(tally, event, ts, error)

    def _send(self, poster: Poster, tally: Tally, event: SimulatedEvent, *, ts: datetime) -> None:
        """Post one event to /api/event and count its answer."""
        answer = self._patiently(
            poster, lambda: poster.post(channel=event.channel, reading=event.reading, ts=ts)
        )
        self._count(tally, event, ts, _result(answer), f"{answer.status} {answer.text}")

    def _send_batch(self, poster: Poster, tally: Tally, events: list[SimulatedEvent]) -> None:
        """Post events to /api/events in one request and count each one's result."""
        answer = self._patiently(poster, lambda: poster.post_batch(events))
        try:
            results = json.loads(answer.text)["results"] if answer.status == 200 else None
        except (ValueError, KeyError, TypeError):
            results = None
        if not isinstance(results, list) or len(results) != len(events):
            for event in events:
                self._error(tally, event, event.ts, f"{answer.status} {answer.text}")
            return
        for event, item in zip(events, results, strict=True):
            self._count(tally, event, event.ts, item.get("result"), str(item.get("error")))

    def _summary(self, tally: Tally, began: float) -> str:
        return f"Posted {tally.posted} events: {tally} in {time.monotonic() - began:.1f} s"

    def _backfill(
        self, poster: Poster, timeline: dict[str, Any], *, days: int, verbosity: int
    ) -> None:
        """Post the span's events in batches, as a device sends its buffer after an outage."""
        end = truncate_to_ms(_now())
        start = end - timedelta(days=days)
        self.stdout.write(f"Backfilling {start:%Y-%m-%d %H:%M:%S}Z to {end:%Y-%m-%d %H:%M:%S}Z.")
        tally, began, tenth = Tally(), time.monotonic(), 1
        events = events_simulate(start=start, end=end, **timeline)
        try:
            while batch := list(itertools.islice(events, BATCH_SIZE)):
                self._send_batch(poster, tally, batch)
                if verbosity >= 2:
                    for event in batch:
                        self.stdout.write(f"{event.ts.isoformat()} {event.channel} {event.reading}")
                while tenth < 10 and batch[-1].ts >= start + (end - start) * tenth / 10:
                    if verbosity:
                        rate = tally.posted / max(time.monotonic() - began, 1e-3)
                        self.stdout.write(
                            f"{tenth * 10:3d}%  {tally.posted} posted: {tally}, {rate:.0f}/s"
                        )
                    tenth += 1
        except Unreachable as exc:
            self.stdout.write(self._summary(tally, began))
            raise CommandError(f"lost {poster.url}: {exc}") from None
        self.stdout.write(self._summary(tally, began))
        if tally.errors:
            raise CommandError(f"{tally.errors} events were answered with an error")

    def _live(
        self, poster: Poster, timeline: dict[str, Any], *, speed: float, verbosity: int
    ) -> None:
        """Post each event when its time comes, stamped with the real time it is sent.

        At speed 1 that is the simulated time itself; faster, the controller's day is
        squeezed into real time, which keeps every ts out of the future.
        """
        sim_start, began = truncate_to_ms(_now()), time.monotonic()
        self.stdout.write(f"Live from {sim_start:%Y-%m-%d %H:%M:%S}Z at {speed:g}x; Ctrl-C stops.")
        tally, reported = Tally(), began
        # Ctrl-C stops between posts, never inside one: a post the server stored is
        # always counted, so the summary matches what was stored.
        stop = self._stop = threading.Event()
        previous_handler = signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            for event in events_simulate(start=sim_start, end=None, **timeline):
                offset = (event.ts - sim_start) / speed
                if stop.wait(max(0.0, began + offset.total_seconds() - time.monotonic())):
                    break
                ts = truncate_to_ms(sim_start + offset)
                self._send_live(poster, tally, event, ts=ts)
                if verbosity >= 2 or (verbosity and event.channel != TEMPERATURE):
                    self.stdout.write(f"{ts:%Y-%m-%d %H:%M:%S}Z {event.channel} {event.reading}")
                if verbosity and time.monotonic() - reported >= LIVE_REPORT_SECONDS:
                    self.stdout.write(f"{tally.posted} posted: {tally}")
                    reported = time.monotonic()
        finally:
            signal.signal(signal.SIGINT, previous_handler)
        self.stdout.write("Stopped.")
        self.stdout.write(self._summary(tally, began))

    def _send_live(
        self, poster: Poster, tally: Tally, event: SimulatedEvent, *, ts: datetime
    ) -> None:
        """Like the firmware offline: keep trying, then send what piled up in a burst."""
        for attempt in itertools.count():
            try:
                self._send(poster, tally, event, ts=ts)
                return
            except Unreachable as exc:
                delay = LIVE_BACKOFF_SECONDS[min(attempt, len(LIVE_BACKOFF_SECONDS) - 1)]
                self.stderr.write(f"Cannot reach {poster.url}: {exc}; retrying in {delay} s")
                if self._stop.wait(delay):
                    return
