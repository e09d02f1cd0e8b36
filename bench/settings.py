"""The app's own settings, with the benchmark's URLs on top (bare baseline views).

Only `bench/run` uses this module: the same gunicorn, with the same settings,
serves the app and the baselines it is compared with.
"""

from __future__ import annotations

from telemetry.settings import *  # noqa: F403 (the app's settings, unchanged)
from telemetry.settings import ALLOWED_HOSTS

ROOT_URLCONF = "bench.urls"
# In-process profiling goes through Django's test client, whose host is "testserver".
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
