"""Fixed-window rate limits kept in the cache (process memory when embedded, Redis in a cluster).

Cheap enough to call on every chat message: one `add` and one `incr` per check.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def rate_limit_exceeded(key: str, *, limit: int, window: int = 60) -> int:
    """Count one hit on `key`; return 0 while under `limit` per `window` seconds, else the
    seconds until the window resets."""
    if limit <= 0:
        return 0
    now = time.time()
    bucket = int(now // window)
    cache_key = f"rl:{key}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return 0
    return max(1, int((bucket + 1) * window - now))
