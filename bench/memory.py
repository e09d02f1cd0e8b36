"""Peak memory (VmHWM) of a web worker, a Celery worker and a bare Django process."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench import procs
from bench.procs import Started, log


def measure(bench) -> None:
    """The web workers' peak so far, a bare Django process, and a Celery worker that ran
    one rollup task of what the ingest runs stored."""
    bench.r.memory["web"] = max(procs.status_kib(pid, "VmHWM") for pid in bench.workers())
    code = (
        "import django, re; django.setup(); import bench.urls, events.api, events.tasks;"
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    out = subprocess.run(  # noqa: S603 (our own venv's python)
        [str(procs.VENV_BIN / "python"), "-c", code],
        env=bench.env,
        cwd=procs.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    bench.r.memory["django"] = int(out.stdout.split()[-1])
    log("celery worker: one rollup task")
    celery_log = bench.c.work / "celery.log"
    worker = Started(
        "celery",
        [
            str(procs.VENV_BIN / "celery"),
            "-A",
            "telemetry",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=bench.env,
        log=celery_log,
        pids_file=bench.pids_file,
    )
    bench.started.append(worker)
    _wait_log(celery_log, "ready.", 90)
    from events.tasks import rollup

    rollup.delay()
    line = _wait_log(celery_log, "succeeded in", 600)
    pids = [worker.pid, *procs.children(worker.pid)]
    bench.r.memory["celery"] = max(procs.status_kib(pid, "VmHWM") for pid in pids)
    took = line.split("succeeded in", 1)[1].split("s:")[0].strip()
    bench.r.memory["celery_task"] = f"{float(took):.2f} s"
    worker.stop()


def _wait_log(path: Path, text: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.5)
    raise RuntimeError(f"no {text!r} in {path} after {seconds} s")
