"""Per-company rate limits at the platform's rates (seeds/003), counted in the shared cache.

A fixed one-second window per (rate class, company) in Django's cache: with CACHE_URL on
Redis every web node increments the same counter, so the cluster as a whole enforces the
rate. Views pick their class with `rate_class` ("inbound_events", "company",
"mobile_app", "other"); the numbers come from settings.API_RATE_LIMITS.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


class CompanyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        if not settings.API_RATE_LIMITS_ENABLED:
            return True
        rate_class = getattr(view, "rate_class", "other")
        limit = settings.API_RATE_LIMITS.get(rate_class)
        if not limit:
            return True
        company = getattr(request, "company", None)
        subject = f"c{company.pk}" if company is not None else f"u{getattr(request.user, 'pk', 0)}"
        now = time.time()
        window = int(now)
        key = f"ratelimit:{rate_class}:{subject}:{window}"
        cache.add(key, 0, timeout=5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request alone
            cache.set(key, 1, timeout=5)
            count = 1
        self._wait = (window + 1) - now
        return count <= limit

    def wait(self) -> float:
        return getattr(self, "_wait", 1.0)
