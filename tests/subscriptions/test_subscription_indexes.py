"""The subscriptions' list index and company-and-date index (migration 0013): present on
either database, and on PostgreSQL without deduplication, so that ending a list's
subscriptions in bulk does not merge equal keys at every full leaf page
(vibesweb.indexes.UndeduplicatedIndex)."""

from __future__ import annotations

import pytest
from django.db import connection

from mobiledb.models import Subscription

TABLE = Subscription._meta.db_table


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TABLE)
    return {name: spec["columns"] for name, spec in found.items() if spec["index"]}


def _storage_options(index: str) -> list[str] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [index])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_subscriptions_are_indexed_by_list_and_by_company_and_opt_in_date():
    indexes = _indexes()

    assert indexes["subscription_by_list"] == ["subscription_list_id"]
    assert indexes["subscription_company_optin"] == ["company_id", "opt_in_date"]
    # The foreign key's own index is gone: one index by list, not two.
    assert [name for name, columns in indexes.items() if columns == ["subscription_list_id"]] == [
        "subscription_by_list"
    ]


@pytest.mark.django_db
def test_postgresql_keeps_one_entry_per_row_in_the_indexes_of_few_keys():
    if connection.vendor != "postgresql":
        pytest.skip("deduplication is PostgreSQL's")

    assert _storage_options("subscription_by_list") == ["deduplicate_items=off"]
    assert _storage_options("subscription_company_optin") == ["deduplicate_items=off"]
    assert _storage_options("subscription_one_active_per_list") is None
