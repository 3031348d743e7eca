"""A suppressed number is keyed by (company, mdn), without a surrogate id
(mobiledb/migrations/0012): one number once per company, and the migration keeps every
row and migration 0011's triggers, both ways, on either database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from mobiledb.models import SuppressedNumber
from tests.factories import CompanyFactory

BEFORE = [("mobiledb", "0011_suppressednumber_company_by_triggers")]
TABLE = SuppressedNumber._meta.db_table


@pytest.mark.django_db
def test_a_number_is_silenced_once_per_company_and_found_by_its_key():
    first, second = CompanyFactory(), CompanyFactory()
    SuppressedNumber.objects.create(company=first, mdn="+12295550001", ended_list_ids=[7])
    SuppressedNumber.objects.create(company=second, mdn="+12295550001")

    with pytest.raises(IntegrityError), transaction.atomic():
        SuppressedNumber.objects.create(company=first, mdn="+12295550001")
    assert SuppressedNumber.objects.get(pk=(first.pk, "+12295550001")).ended_list_ids == [7]
    assert not hasattr(SuppressedNumber(), "id")


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _columns() -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, TABLE)}


def _insert(company_id: int, mdn: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (company_id, mdn, ended_list_ids, created_at) "
            "VALUES (%s, %s, '[3]', CURRENT_TIMESTAMP)",
            [company_id, mdn],
        )


def _a_number_of_a_missing_company_is_refused(company_id: int) -> bool:
    try:
        with transaction.atomic():
            _insert(company_id + 1000, "+12295550009")
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_numbers_and_the_company_triggers_both_ways():
    company = CompanyFactory()
    latest = _latest()
    try:
        _migrate(BEFORE)
        assert "id" in _columns()
        _insert(company.pk, "+12295550001")

        _migrate(latest)
        assert "id" not in _columns()
        assert list(SuppressedNumber.objects.values_list("pk", "ended_list_ids")) == [
            ((company.pk, "+12295550001"), [3])
        ]
        assert _a_number_of_a_missing_company_is_refused(company.pk)

        _migrate(BEFORE)
        assert "id" in _columns()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT company_id, mdn FROM {TABLE} WHERE id IS NOT NULL")
            assert cursor.fetchall() == [(company.pk, "+12295550001")]
        assert _a_number_of_a_missing_company_is_refused(company.pk)
    finally:
        _migrate(latest)
    assert "id" not in _columns()
    assert _a_number_of_a_missing_company_is_refused(company.pk)
