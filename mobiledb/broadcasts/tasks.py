"""Celery tasks for broadcasts: thin shells that take ids and call the service.

Loaded by MobileDBConfig.ready(); sending runs on the `messaging` queue so imports and
callbacks never wait behind a large broadcast (SPEC section 2).
"""

from __future__ import annotations

from celery import shared_task

from . import services as broadcasts


@shared_task(name="mobiledb.broadcasts_start_due")
def broadcasts_start_due() -> list[int]:
    """Scheduler: start every due broadcast and resume stalled ones (idempotent)."""
    return broadcasts.broadcasts_start_due()


@shared_task(name="mobiledb.broadcast_send_batch")
def broadcast_send_batch(broadcast_id: int) -> bool:
    """Send one batch of a broadcast and queue the next (a batch is claimed once)."""
    more = broadcasts.broadcast_send_next_batch(broadcast_id=broadcast_id)
    if more:
        broadcast_send_batch.delay(broadcast_id)
    return more
