"""Per-key rate limiting: a fixed window counted in Redis (INCR + EXPIRE in one pipeline), or in
process memory when no Redis is configured (`make run`). Redis being down fails open: the
request passes and a warning is logged (at most once a minute), never a 500.

Limits (settings, from the environment): RATE_LIMIT_SECRET_PER_WINDOW and
RATE_LIMIT_PUBLISHABLE_PER_WINDOW requests per RATE_LIMIT_WINDOW_SECONDS, counted separately
for reads (GET/HEAD) and writes (everything else), per API key. Over the limit: 429
`rate_limit_error`, `code=rate_limit`, `Retry-After` in whole seconds.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("payintents.api.ratelimit")

_PREFIX = "payintents:rl:"


class _MemoryCounter:
    """A process-local fixed-window counter (one process of `make run`, or no Redis)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def incr(self, name: str, window_index: int, window_seconds: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_index}
            slot = (name, window_index)
            self._counts[slot] = self._counts.get(slot, 0) + 1
            return self._counts[slot]

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


memory_counter = _MemoryCounter()
_redis_clients: dict[str, object] = {}
_last_failure_log = 0.0


def _redis_url() -> str:
    return getattr(settings, "RATE_LIMIT_REDIS_URL", "") or ""


def _redis_client(url: str):
    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30
        )
        _redis_clients[url] = client
    return client


def _redis_incr(url: str, name: str, window_index: int, window_seconds: int) -> int | None:
    """The new count, or None when Redis cannot answer (fail open)."""
    global _last_failure_log
    key = f"{_PREFIX}{name}:{window_index}"
    try:
        pipe = _redis_client(url).pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count, _ = pipe.execute()
        return int(count)
    except (redis.RedisError, OSError) as exc:
        now = time.monotonic()
        if now - _last_failure_log > 60:
            _last_failure_log = now
            logger.warning("rate limiter: Redis unavailable (%s); failing open", type(exc).__name__)
        return None


def hit(name: str, limit: int, window_seconds: int, now: float | None = None) -> float | None:
    """Count one request against `name`. None when allowed, else seconds until the window ends."""
    now = time.time() if now is None else now
    window_index = int(now // window_seconds)
    url = _redis_url()
    if url:
        count = _redis_incr(url, name, window_index, window_seconds)
        if count is None:
            return None
    else:
        count = memory_counter.incr(name, window_index, window_seconds)
    if count <= limit:
        return None
    return (window_index + 1) * window_seconds - now


class KeyRateLimit(BaseThrottle):
    """DRF throttle on every StripeAPIView; runs after authentication, so it counts per key."""

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if not settings.RATE_LIMIT_ENABLED:
            return True
        caller = getattr(request, "user", None)
        key = getattr(caller, "key", None)
        if key is None:
            return True
        bucket = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
        limit = (
            settings.RATE_LIMIT_SECRET_PER_WINDOW
            if key.is_secret
            else settings.RATE_LIMIT_PUBLISHABLE_PER_WINDOW
        )
        self._wait = hit(f"{key.pk}:{bucket}", limit, settings.RATE_LIMIT_WINDOW_SECONDS)
        return self._wait is None

    def wait(self) -> float | None:
        if self._wait is None:
            return None
        return max(1, math.ceil(self._wait))
