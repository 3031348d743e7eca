"""Celery task for bulk actions over persons: a thin shell taking an id."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="mobiledb.person_bulk_action")
def person_bulk_action(bulk_action_id: int) -> int:
    """Run a bulk subscribe/opt-out/tag/untag; returns how many persons it changed."""
    return services.bulk_action_run(bulk_action_id=bulk_action_id).changed


@shared_task(name="mobiledb.person_search_index", ignore_result=True)
def person_search_index() -> int:
    """Periodic (and queued once an import finishes): index the persons changed since the
    search index's mark; returns how many."""
    from .search import person_search_index as index

    return index()
