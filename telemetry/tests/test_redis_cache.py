"""With REDIS_URL set, the shared cache is the real Redis."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection


@pytest.mark.redis
def test_the_cache_is_redis_and_counts_atomically_across_threads():
    key = f"test-counter-{uuid.uuid4()}"
    cache.set(key, 0, timeout=60)

    def bump() -> None:
        for _ in range(250):
            cache.incr(key)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get(key) == 1000
    assert get_redis_connection("default").ping() is True
    cache.delete(key)
