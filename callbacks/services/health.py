"""A destination's health: failures in a row mark it down for growing periods, during which
its pending deliveries wait (nothing is dropped); any answer it means brings it back."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from .. import http
from ..models import CallbackDelivery, CallbackRegistration

if TYPE_CHECKING:
    from .delivery import Sent

logger = logging.getLogger(__name__)
State = CallbackDelivery.State


def health_update(results: list[Sent]) -> dict[int, datetime]:
    """Update each registration's health from its outcomes; returns {id: down_until} of
    registrations that went down (their pending deliveries wait until then)."""
    by_registration: dict[int, list[Sent]] = defaultdict(list)
    for sent in sorted(results, key=lambda s: s.at):
        # A FAULT is our own error, not the destination's answer: no bearing on its health.
        if sent.outcome is not None and sent.outcome.kind != http.FAULT:
            by_registration[sent.delivery.registration_id].append(sent)
    downs = {}
    for sents in by_registration.values():
        down_until = _registration_health(sents[0].delivery.registration, sents)
        if down_until is not None:
            downs[sents[0].delivery.registration_id] = down_until
    return downs


def _registration_health(registration: CallbackRegistration, sents: list[Sent]):
    """Count trailing transient failures; past the threshold the destination goes down
    for a growing period (reset by any answer it meant). Returns the new down_until."""
    now = timezone.now()
    changes: dict = {}
    successes = [s.at for s in sents if s.outcome.kind == http.DELIVERED]
    if successes:
        changes["last_success_at"] = max(successes)
    trailing = 0
    for sent in reversed(sents):
        if sent.outcome.kind != http.TRANSIENT:
            break
        trailing += 1
    answered = trailing < len(sents)
    failures = trailing if answered else registration.consecutive_failures + trailing
    changes["consecutive_failures"] = failures
    if answered:
        changes.update(down_until=None, down_level=0)
    if failures:
        changes["last_failure_at"] = now
    down_until = None
    if failures >= settings.CALLBACK_DOWN_AFTER_FAILURES and (
        answered or not registration.is_down(now)
    ):
        level = (0 if answered else registration.down_level) + 1
        period = min(
            settings.CALLBACK_DOWN_BASE_SECONDS * 2 ** (level - 1),
            settings.CALLBACK_DOWN_MAX_SECONDS,
        )
        down_until = now + timedelta(seconds=period)
        changes.update(down_level=level, down_until=down_until)
        logger.warning("callbacks: %s is down for %s s", registration.url, period)
    _save_health(registration, changes)
    if down_until is not None:
        _suspend_pending(registration, down_until)
    return down_until


def _save_health(registration: CallbackRegistration, changes: dict) -> None:
    for name, value in changes.items():
        setattr(registration, name, value)
    CallbackRegistration.objects.filter(pk=registration.pk).update(**changes)


def _suspend_pending(registration: CallbackRegistration, until: datetime) -> None:
    """A downed destination's pending deliveries wait until it may be tried again."""
    CallbackDelivery.objects.filter(
        registration=registration, state=State.PENDING, next_attempt_at__lt=until
    ).update(next_attempt_at=until)
