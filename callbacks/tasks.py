"""Celery tasks of the callbacks queue: thin shells over callbacks.services."""

from __future__ import annotations

from celery import shared_task

from .services.batches import person_event_batches_expand
from .services.delivery import deliveries_drain
from .services.operations import callback_events_prune, deliveries_sweep


@shared_task(name="callbacks.deliver_pending", ignore_result=True)
def deliver_pending() -> int:
    """Send due deliveries batch after batch for up to CALLBACK_DRAIN_SECONDS (enqueuing a
    helper task when a batch is full, and a successor if time runs out).

    Safe to run any number of times concurrently: rows are claimed, never shared.
    """
    return deliveries_drain()


@shared_task(name="callbacks.expand_person_event_batches", ignore_result=True)
def expand_person_event_batches() -> int:
    """Turn recorded batches of person events (imports) into events and deliveries.

    Safe to run any number of times concurrently: each batch is claimed by one task.
    """
    return person_event_batches_expand()


@shared_task(name="callbacks.sweep", ignore_result=True)
def sweep() -> dict:
    """Periodic: re-open stranded claims and enqueue delivery of anything due."""
    return deliveries_sweep()


@shared_task(name="callbacks.prune", ignore_result=True)
def prune() -> int:
    """Periodic: delete settled events past the retention period (one batch)."""
    return callback_events_prune()
