"""Fixed-window counters in Django's cache (Redis in production, local memory in tests).

One small helper for every rate limit: log-in failures per address and in all
(``config.throttling``), the duplicate check naming another team's owner
(``crm.services``). A window is ``window`` seconds long and starts at a multiple of
it; its counter is one cache key that expires with the window.

When the cache cannot be reached the counters answer "nothing counted yet": a Redis
outage must not stop people from signing in or working (SPEC §4), so limits fail open
and say so in the log.
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

try:  # The Redis client is installed with Celery; its errors are not OSErrors.
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis ships with the project's requirements
    RedisError = OSError

log = logging.getLogger(__name__)
CACHE_ERRORS = (OSError, RedisError)


@dataclass(frozen=True)
class Window:
    count: int  # events counted in the current window, this one included for ``hit``
    retry_after: int  # whole seconds until the window ends (at least 1)


def _window(key: str, seconds: int) -> tuple[str, int]:
    now = time.time()
    start = int(now // seconds) * seconds
    return f"ratelimit:{key}:{start}", max(1, int(start + seconds - now + 0.999))


def hit(key: str, *, window: int) -> Window:
    """Count one event under ``key`` in the current window of ``window`` seconds."""
    cache_key, left = _window(key, window)
    try:
        if cache.add(cache_key, 1, timeout=left + 1):
            return Window(1, left)
        try:
            return Window(cache.incr(cache_key), left)
        except ValueError:  # expired between add and incr: this event opens the window
            cache.set(cache_key, 1, timeout=left + 1)
            return Window(1, left)
    except CACHE_ERRORS as error:
        log.warning("Rate limit %s not counted, the cache is unreachable: %s", key, error)
        return Window(0, left)


def peek(key: str, *, window: int) -> Window:
    """The count under ``key`` in the current window, without counting anything."""
    cache_key, left = _window(key, window)
    try:
        return Window(int(cache.get(cache_key, 0)), left)
    except CACHE_ERRORS as error:
        log.warning("Rate limit %s not read, the cache is unreachable: %s", key, error)
        return Window(0, left)
