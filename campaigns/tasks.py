"""Celery tasks of the Campaign Manager: thin shells over campaigns.services."""

from __future__ import annotations

from celery import shared_task

from .services import acquisition


@shared_task(name="campaigns.participations_expire")
def participations_expire() -> int:
    """Scheduler: expire pending participations past their expire_date (idempotent)."""
    return acquisition.participations_expire()


@shared_task(name="campaigns.campaigns_roll_status")
def campaigns_roll_status() -> int:
    """Scheduler: start scheduled campaigns whose start came, end those past their end."""
    return acquisition.campaigns_roll_status()
