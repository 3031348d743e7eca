"""Reads of callback data that are more than one ORM call: lists, health, failure queue."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import CallbackDelivery, CallbackRegistration, DeliveryAttempt
from .types import canonical_type


def registrations_of_company(company) -> QuerySet[CallbackRegistration]:
    return CallbackRegistration.objects.filter(company=company).select_related("company")


def open_registration_of_type(company, callback_type: str) -> CallbackRegistration | None:
    """The company's registration of that type (aliases accepted) that has not ended."""
    now = timezone.now()
    return (
        registrations_of_company(company)
        .filter(callback_type=canonical_type(callback_type) or "")
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=now))
        .first()
    )


def registration_health(registration: CallbackRegistration, *, hours: int = 24) -> dict:
    """Attempts, failures and the failure rate over the last `hours`, and the queue sizes."""
    since = timezone.now() - timedelta(hours=hours)
    attempts = DeliveryAttempt.objects.filter(registration=registration, created_at__gte=since)
    counts = attempts.aggregate(total=Count("id"), failed=Count("id", filter=Q(succeeded=False)))
    total, failed = counts["total"], counts["failed"]
    deliveries = CallbackDelivery.objects.filter(registration=registration)
    return {
        "attempts": total,
        "failed_attempts": failed,
        "failure_rate": (failed / total) if total else 0.0,
        "pending": deliveries.filter(state=CallbackDelivery.State.PENDING).count(),
        "failed": deliveries.filter(state=CallbackDelivery.State.FAILED).count(),
    }
