"""Gunicorn settings from the environment; gunicorn reads this file from the working folder."""

from __future__ import annotations

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "1"))
threads = int(os.environ.get("WEB_THREADS", "8"))
accesslog = "-"  # request lines only: keys travel in headers, never in the URL
# gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl): instances
# on one machine would share it, and the first to stop removes it. Unused here.
control_socket_disable = True

ONE_PROCESS_WITHOUT_REDIS = (
    "gunicorn: {workers} web processes need REDIS_URL: without Redis the rate-limit "
    "counters live in each process's memory, so every process would allow the full rate. "
    "Set REDIS_URL, or run one process (WEB_WORKERS=1) with threads (WEB_THREADS)."
)


def on_starting(server) -> None:
    """Refuse more than one web process when the cache is in-process memory."""
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        raise SystemExit(ONE_PROCESS_WITHOUT_REDIS.format(workers=server.cfg.workers))
