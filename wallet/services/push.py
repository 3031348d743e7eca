"""Updates reach phones: bump the update tag of changed items and push to every device
they are installed on (after commit, through the configured push backend)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from ..models import DeviceRegistration, WalletItem
from ..push import Push, push_backend


def now_tag() -> int:
    """An update tag: microseconds since the epoch."""
    return int(timezone.now().timestamp() * 1_000_000)


def items_changed(*, item_ids: Sequence[int]) -> None:
    """Bump the items' update tags (strictly increasing) and push to their devices once
    the current transaction commits."""
    if not item_ids:
        return
    WalletItem.objects.filter(pk__in=item_ids).update(
        update_tag=Greatest(F("update_tag") + 1, Value(now_tag()))
    )
    pushes_on_commit(item_ids=item_ids)


def pushes_on_commit(*, item_ids: Sequence[int], company_id: int | None = None) -> None:
    """Push to the items' devices once the current transaction commits (the caller has
    bumped their update tags). `company_id`, when all are one company's, saves a join."""
    ids = list(item_ids)
    transaction.on_commit(lambda: pushes_send(item_ids=ids, company_id=company_id))


def pushes_send(*, item_ids: Sequence[int], company_id: int | None = None) -> int:
    """Push to every open Apple registration of the items; returns how many pushes.

    Google Wallet has no device push of ours: Google reads the object from its API.
    """
    now = timezone.now()
    registrations = DeviceRegistration.objects.filter(
        item_id__in=item_ids,
        provider=DeviceRegistration.Provider.APPLE,
        unregistered_at__isnull=True,
    ).values_list(
        "pk", "item_id", Value(company_id) if company_id else "item__company_id", "push_token"
    )
    pushes = [
        Push(
            company_id=company_id,
            item_id=item_id,
            registration_id=pk,
            push_token=token,
            created_at=now,
        )
        for pk, item_id, company_id, token in registrations.iterator(chunk_size=2000)
        if token
    ]
    if pushes:
        push_backend().send_pushes(pushes)
    return len(pushes)
