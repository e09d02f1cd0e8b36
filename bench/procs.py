"""Processes the benchmark starts (gunicorn, Celery, wrk) and what /proc says about them."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"
VENV_BIN = ROOT / ".venv" / "bin"
TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def status_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in KiB, e.g. VmHWM (peak RSS)."""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class Started:
    """A process group we started; its pgid is noted so bench/run can end it on failure."""

    def __init__(self, name: str, args: list[str], *, env: dict, log: Path, pids_file: Path):
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 (fixed commands)
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with open(pids_file, "a") as pids:
            pids.write(f"{self.popen.pid}\n")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def wait_http(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback only)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    stored: int
    limited: int
    other: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    sample: str
    wrk_cpu_s: float
    server_cpu_s: float  # gunicorn workers
    db_cpu_s: float  # this database's PostgreSQL backends

    @property
    def stored_per_s(self) -> float:
        return self.stored / self.seconds

    @property
    def wrk_cpu_share(self) -> float:
        """The load generator's CPU as a share of one core over the run."""
        return self.wrk_cpu_s / self.seconds


def wrk(
    url: str,
    script: str,
    args: list[str],
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
    watch: list[int] = (),
    db_pids: list[int] = (),
) -> WrkResult:
    """Run wrk once; its CPU from the kernel's accounting of the child (wait4)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        url,
        "--",
        *args,
    ]
    before = [cpu_seconds(pid) for pid in watch], [cpu_seconds(pid) for pid in db_pids]
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output = process.stdout.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    server = sum(cpu_seconds(pid) for pid in watch) - sum(before[0])
    db = sum(cpu_seconds(pid) for pid in db_pids) - sum(before[1])
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if process.returncode or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    values = dict(item.split("=") for item in line.split()[1:])
    sample = next((x[13:] for x in output.splitlines() if x.startswith("BENCH_SAMPLE ")), "")
    return WrkResult(
        requests=int(values["requests"]),
        seconds=int(values["duration_us"]) / 1e6,
        stored=int(values["stored"]),
        limited=int(values["limited"]),
        other=int(values["other"]),
        p50_ms=int(values["p50_us"]) / 1000,
        p95_ms=int(values["p95_us"]) / 1000,
        p99_ms=int(values["p99_us"]) / 1000,
        errors=sum(int(values[k]) for k in ("connect_errors", "read_errors", "timeouts")),
        sample=sample,
        wrk_cpu_s=usage.ru_utime + usage.ru_stime,
        server_cpu_s=server,
        db_cpu_s=db,
    )


def combine(results: list[WrkResult]) -> WrkResult:
    """Several runs of one side as one: counts and CPU added up, percentiles the median of
    the runs' (wrk's histograms cannot be merged from its output)."""

    def median(values: list[float]) -> float:
        return statistics.median(values)

    return WrkResult(
        requests=sum(x.requests for x in results),
        seconds=sum(x.seconds for x in results),
        stored=sum(x.stored for x in results),
        limited=sum(x.limited for x in results),
        other=sum(x.other for x in results),
        p50_ms=median([x.p50_ms for x in results]),
        p95_ms=median([x.p95_ms for x in results]),
        p99_ms=median([x.p99_ms for x in results]),
        errors=sum(x.errors for x in results),
        sample=next((x.sample for x in results if x.sample), ""),
        wrk_cpu_s=sum(x.wrk_cpu_s for x in results),
        server_cpu_s=sum(x.server_cpu_s for x in results),
        db_cpu_s=sum(x.db_cpu_s for x in results),
    )
