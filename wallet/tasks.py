"""Celery tasks of the wallet: thin shells that take ids and call a service (sending runs
on the `messaging` queue, SPEC section 2)."""

from __future__ import annotations

from celery import shared_task

from .services import messages


@shared_task(name=messages.SEND_BATCH_TASK)
def wallet_message_send_batch(message_id: int) -> bool:
    """Send one batch of a wallet message and queue the next (a batch is claimed once)."""
    more = messages.wallet_message_send_next_batch(message_id=message_id)
    if more:
        wallet_message_send_batch.delay(message_id)
    return more
