"""A company's first import on PostgreSQL: its persons grow from statistics that put them
at a row or two (a new database, or a new company in a table of others' persons), and
each chunk's lookup must still probe the index once per row looked up, not read all of
the company's persons for each of them (40,000 rows took 57 s so on a new database and
17.6 s for a second company, on a server whose autovacuum had not come by)."""

from __future__ import annotations

import pytest
from django.db import connection

from mobiledb.imports.services import person_import_create, person_import_run
from tests.factories import CompanyFactory

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


def persons_file(tmp_path, name: str, rows: int) -> str:
    path = tmp_path / f"{name}.persons"
    lines = "".join(f"E{n},+1612{n:07d}\n" for n in range(rows))
    path.write_text(f"external_person_id,mdn\n{lines}")
    return str(path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("others_persons", [0, 20_000], ids=["new-database", "new-company"])
def test_a_first_import_keeps_its_lookups_on_the_index(company, tmp_path, others_persons):
    if others_persons:
        other = CompanyFactory(key="OTHER")
        path = persons_file(tmp_path, "other", others_persons)
        person_import_run(person_import_create(company_key=other.key, file_path=path).pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE mobiledb_person")  # statistics of none of ACME's persons
    plans: list[str] = []

    def after_chunk(person_import) -> None:
        plans.append(lookup_plan(company.id, person_import.records_done))

    path = persons_file(tmp_path, "first", ROWS)
    person_import = person_import_create(company_key=company.key, file_path=path)
    finished = person_import_run(person_import.pk, on_chunk=after_chunk, chunk_size=CHUNK)

    assert (finished.status, finished.created) == ("finished", ROWS)
    assert len(plans) == ROWS // CHUNK
    for plan in plans:
        assert "Index Scan using person_unique_external_id" in plan, plan
        assert "Join Filter" not in plan, plan
