"""A small fixed-window limiter on the Django cache for the public verification pages
(ARCHITECTURE: rate limits on public verification pages), keyed by the client IP as
zhipei.core.middleware resolves it (trusted proxies only)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

DEFAULT_LIMIT = 30
DEFAULT_WINDOW_SECONDS = 600


def limits() -> tuple[int, int]:
    limit = int(getattr(settings, "VERIFY_RATE_LIMIT", DEFAULT_LIMIT))
    window = int(getattr(settings, "VERIFY_RATE_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))
    return limit, window


def hit(scope: str, client: str) -> int | None:
    """Count one lookup by `client`; None while within the limit, else the seconds until the
    current window ends (for Retry-After)."""
    limit, window = limits()
    now = time.time()
    window_index = int(now // window)
    key = f"zhipei:ratelimit:{scope}:{client}:{window_index}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return max(1, int((window_index + 1) * window - now))
    return None
