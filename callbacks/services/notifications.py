"""Telling a customer that callback events failed for good (seeds/003: "notify the customer")."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from ..models import CallbackDelivery, CallbackRegistration

logger = logging.getLogger(__name__)


def failures_notify(
    *, registration: CallbackRegistration, deliveries: list[CallbackDelivery]
) -> bool:
    """Email the registration's notification addresses about deliveries that failed.

    At most one email per registration per CALLBACK_FAILURE_EMAIL_INTERVAL_SECONDS (the
    failure queue in the admin lists every one); returns whether an email went out.
    Never raises: a mail outage must not stop deliveries.
    """
    if not registration.notification_emails or not deliveries:
        return False
    now = timezone.now()
    quiet_since = now - timedelta(seconds=settings.CALLBACK_FAILURE_EMAIL_INTERVAL_SECONDS)
    claimed = (
        CallbackRegistration.objects.filter(pk=registration.pk)
        .filter(Q(last_failure_email_at__isnull=True) | Q(last_failure_email_at__lt=quiet_since))
        .update(last_failure_email_at=now)
    )
    if not claimed:
        return False
    try:
        send_mail(
            _subject(registration, deliveries),
            _body(registration, deliveries),
            settings.DEFAULT_FROM_EMAIL,
            registration.notification_emails,
        )
    except Exception:  # noqa: BLE001
        logger.exception("callbacks: could not send the failure email")
        return False
    return True


def _subject(registration: CallbackRegistration, deliveries: list) -> str:
    return (
        f"[vibesweb] {len(deliveries)} {registration.callback_type} callback(s) failed "
        f"for {registration.company.key}"
    )


def _body(registration: CallbackRegistration, deliveries: list) -> str:
    lines = [
        f"Callback {registration.callback_id} ({registration.callback_type}) could not deliver "
        f"these events to {registration.url}:",
        "",
    ]
    for delivery in deliveries[:50]:
        reason = delivery.last_error or f"HTTP {delivery.last_status}"
        lines.append(f"- event {delivery.event_id}: {reason} after {delivery.attempts} attempt(s)")
    lines += [
        "",
        "They wait in the failure queue of the callback configuration screen, where they can "
        "be redelivered once the destination is fixed.",
    ]
    return "\n".join(lines)
