"""The first import into a new PostgreSQL database: the person table grows from
statistics that say "empty", and the planner must keep probing the index per row looked
up, not read all of the company's persons for each of them (40,000 rows took 57 s so,
one chunk 20 s, on a server whose autovacuum had not come by)."""

from __future__ import annotations

import pytest
from django.db import connection

from mobiledb.imports.services import person_import_create, person_import_run

ROWS, CHUNK = 6_000, 500

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
    pytest.mark.postgres_only,
]


def lookup_plan(company_id: int, first: int) -> str:
    """The plan of a chunk's lookup by external id, as the import's session plans it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT p.id FROM unnest(%s::text[]) AS wanted(value) "
            "JOIN mobiledb_person AS p ON p.company_id = %s "
            "AND p.external_person_id = wanted.value FOR UPDATE OF p",
            [[f"E{n}" for n in range(first, first + CHUNK)], company_id],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def pages_known_and_now() -> tuple[int, int]:
    """The person table's size in pages: as its statistics know it, and now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, pg_relation_size(oid) / current_setting('block_size')::int "
            "FROM pg_class WHERE oid = 'mobiledb_person'::regclass"
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_a_growing_person_table_keeps_its_lookups_on_the_index(company, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mobiledb_person")  # a new database: statistics of none
    path = tmp_path / "first.persons"
    path.write_text(
        "external_person_id,mdn\n" + "".join(f"E{n},+1612{n:07d}\n" for n in range(ROWS))
    )
    seen: list[tuple[int, int, str]] = []

    def after_chunk(person_import) -> None:
        known, now = pages_known_and_now()
        seen.append((known, now, lookup_plan(company.id, person_import.records_done)))

    person_import = person_import_create(company_key=company.key, file_path=str(path))
    finished = person_import_run(person_import.pk, on_chunk=after_chunk, chunk_size=CHUNK)

    assert (finished.status, finished.created) == ("finished", ROWS)
    assert len(seen) == ROWS // CHUNK
    for known, now, plan in seen:
        # what the planner knows of the table is never less than half of it
        assert 2 * max(known, 1) >= now, (known, now)
        assert "Index Scan using person_unique_external_id" in plan, plan
        assert "Materialize" not in plan, plan
