"""The low-codes alert: one email per crossing of a pool's `low_threshold`.

Checked after the issuing transaction commits: two issuers committing the last codes
above the threshold at once each see the other's claim by then, so a crossing is never
missed; the conditional UPDATE of `low_notified_at` lets exactly one of them send.
Loading codes above the threshold clears it again (re-arms the alert).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import IncentivePool
from .queue import unissued_at_most
from .selectors import pool_counts

logger = logging.getLogger(__name__)


def pool_low_check_on_commit(pool: IncentivePool) -> None:
    """After the current transaction commits, alert if `pool` has fallen to its threshold
    (the caller read `pool` in this request: no second read of it unless it is low)."""
    transaction.on_commit(lambda: _alert_if_low(pool))


def incentive_pool_low_check(*, pool_id: int) -> bool:
    """Send the low-codes email if the pool is at or under its threshold and has not been
    alerted since it was last re-armed; returns whether this call sent it (once per
    crossing, whatever runs at the same time)."""
    pool = IncentivePool.objects.filter(pk=pool_id).first()
    if pool is None or pool.low_notified_at is not None:
        return False
    return _alert_if_low(pool)


def _alert_if_low(pool: IncentivePool) -> bool:
    if not pool.is_unique or not unissued_at_most(pool, pool.low_threshold):
        return False
    claimed = IncentivePool.objects.filter(pk=pool.pk, low_notified_at__isnull=True).update(
        low_notified_at=timezone.now()
    )
    if not claimed:
        return False
    _send_low_email(IncentivePool.objects.select_related("company").get(pk=pool.pk))
    return True


def incentive_pool_rearm(pool: IncentivePool) -> bool:
    """Clear the alert once more codes than the threshold are available (after a load)."""
    if not pool.is_unique or unissued_at_most(pool, pool.low_threshold):
        return False
    return bool(
        IncentivePool.objects.filter(pk=pool.pk, low_notified_at__isnull=False).update(
            low_notified_at=None
        )
    )


def pool_is_low(pool: IncentivePool, remaining: int) -> bool:
    return pool.is_unique and remaining <= pool.low_threshold


def _send_low_email(pool: IncentivePool) -> None:
    if not pool.notification_email_address:
        logger.warning("incentive pool %s is low on codes; no notification address", pool.pk)
        return
    counts = pool_counts(pool)
    subject = f"Incentive pool '{pool.name}' is low on codes: {counts.remaining} left"
    body = (
        f"The incentive pool '{pool.name}' (id {pool.pk}, company {pool.company.key}) has "
        f"{counts.remaining} codes left of {counts.total}; its low threshold is "
        f"{pool.low_threshold}.\n\nLoad more codes in the admin, with "
        f"`manage.py add_incentive_codes {pool.company.key} {pool.pk} --file FILE`, or "
        f"with POST /companies/{pool.company.key}/incentives/pools/{pool.pk}/codes.\n"
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [pool.notification_email_address])
    except Exception:  # the mail server's trouble must not fail the issuance
        logger.exception("incentive pool %s: the low-codes email could not be sent", pool.pk)
