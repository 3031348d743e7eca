"""The persons list's search index, kept off the persons' write path.

A person import writes a million persons at a budgeted rate (SPEC section 9); a trigram
index maintained on every person write cost it several times its CPU. So the index is a
separate table (`PersonSearchEntry`) filled by the indexer below, run by the scheduler
(Celery beat) and queued once an import finishes. A search reads entries only for persons
not changed since the indexer's mark (`PersonSearchState.indexed_through`) and scans the
few persons changed after it (the `(company, updated_at)` index finds them), so a result
is never stale, even before the indexer has run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from vibesweb.tenancy.models import Company

from ..persons.models import Person
from .models import PersonSearchEntry, PersonSearchState

logger = logging.getLogger(__name__)

ENTRY_TABLE = PersonSearchEntry._meta.db_table
FTS_TABLE = "mobiledb_personsearch_fts"  # SQLite only (migration 0008)
PERSON_TABLE = Person._meta.db_table
ANALYZE_AFTER = 50_000  # persons indexed in one run


def indexed_through() -> datetime | None:
    """The indexer's mark: entries are up to date for persons changed at or before it."""
    state = PersonSearchState.objects.order_by("pk").values_list("indexed_through").first()
    return state[0] if state else None


def _lag() -> timedelta:
    # A person's updated_at is taken before its transaction commits: a row committed
    # later than the indexer read may carry an earlier stamp. The mark stays this far
    # behind the indexer's start, longer than any transaction writing persons (an import
    # commits chunk by chunk, in seconds).
    return timedelta(seconds=settings.PERSON_SEARCH_INDEX_LAG_SECONDS)


def _upsert(ids: list[int]) -> None:
    """(Re)write the entries of persons `ids` from their current rows, in SQL."""
    marks = ", ".join(["%s"] * len(ids))
    digits = "REPLACE(COALESCE(mdn, ''), '+', '')"
    sql = (
        f'INSERT INTO "{ENTRY_TABLE}" (person_id, company_id, fields_text, mdn_reversed) '
        f"SELECT id, company_id, CAST(custom_fields AS text), REVERSE({digits}) "
        f'FROM "{PERSON_TABLE}" WHERE id IN ({marks}) '
        "ON CONFLICT (person_id) DO UPDATE SET company_id = excluded.company_id, "
        "fields_text = excluded.fields_text, mdn_reversed = excluded.mdn_reversed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)


def person_search_index(*, batch_size: int = 5000) -> int:
    """Index the persons changed since the mark, company by company, in batches (each its
    own short transaction: the app keeps writing meanwhile); then move the mark. Returns
    how many persons were indexed."""
    started = timezone.now()
    since = indexed_through()
    indexed = 0
    for company_id in Company.objects.order_by("pk").values_list("pk", flat=True):
        changed = Person.objects.filter(company_id=company_id)
        if since is not None:
            changed = changed.filter(updated_at__gt=since)
        cursor_at: tuple[datetime, int] | None = None
        while True:
            page = changed
            if cursor_at is not None:
                page = page.filter(updated_at__gte=cursor_at[0]).exclude(
                    updated_at=cursor_at[0], pk__lte=cursor_at[1]
                )
            ordered = page.order_by("updated_at", "pk").values_list("updated_at", "pk")
            rows = list(ordered[:batch_size])
            if not rows:
                break
            with transaction.atomic():
                _upsert([pk for _, pk in rows])
            indexed += len(rows)
            cursor_at = rows[-1]
            if len(rows) < batch_size:
                break
    if indexed >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # Fresh statistics for the search's plans now rather than at autovacuum's next
        # pass: without them a partial-MDN range was planned as a scan of every entry.
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{ENTRY_TABLE}"')
    mark = started - _lag()
    with transaction.atomic():
        state = PersonSearchState.objects.select_for_update().order_by("pk").first()
        if state is None:
            PersonSearchState.objects.create(indexed_through=mark)
        elif state.indexed_through < mark:
            # two runs at once: the later mark is safe, each covered all before it
            PersonSearchState.objects.filter(pk=state.pk).update(
                indexed_through=mark, updated_at=Now()
            )
    logger.info("person search: indexed %d persons, mark %s", indexed, mark.isoformat())
    return indexed


def hits(words: list[str], cap: int) -> list[int]:
    """Ids of up to `cap` persons whose entry contains every word (any case), whatever
    their company (the caller scopes them). Words hold no LIKE wildcard and are 3
    characters or more: a trigram index answers them."""
    patterns = [f"%{word}%" for word in words]
    if connection.vendor == "sqlite":
        where = " AND ".join(["fields_text LIKE %s"] * len(words))
        sql = f'SELECT rowid FROM "{FTS_TABLE}" WHERE {where} LIMIT %s'
    else:
        where = " AND ".join(["fields_text ILIKE %s"] * len(words))
        sql = f'SELECT person_id FROM "{ENTRY_TABLE}" WHERE {where} LIMIT %s'
    with connection.cursor() as cursor:
        cursor.execute(sql, [*patterns, cap])
        return [row[0] for row in cursor.fetchall()]
