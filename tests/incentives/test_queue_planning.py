"""PostgreSQL plans a claim without reading the dead rows that deleted codes leave behind.

Given the remembered position as a literal, the planner estimated `id > n` from the
histogram and, for a position below it or in its first bucket, read the primary key's
smallest live entry while planning, stepping over every dead entry before it: a company
with a million codes deleted (until VACUUM) made each claim read ~2,700 index pages.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.incentives import queue
from campaigns.incentives.alerts import unissued_at_most
from campaigns.incentives.pools import incentive_pool_create
from campaigns.models import IncentiveCode

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the planner's reads are PostgreSQL's"
)
DEAD = 40_000


def insert_codes(pool, prefix: str, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_incentivecode (company_id, pool_id, code, created_at, "
            "updated_at) SELECT %s, %s, %s || n, now(), now() FROM generate_series(1, %s) n",
            [pool.company_id, pool.pk, prefix, count],
        )


def planning_buffers(sql: str) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    plan = plan if isinstance(plan, list) else json.loads(plan)
    planning = plan[0].get("Planning", {})
    return sum(value for key, value in planning.items() if key.endswith("Blocks"))


def statements_of(run) -> list[str]:
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        run()
        transaction.set_rollback(True)
    statements = [q["sql"] for q in captured.captured_queries]
    return [sql for sql in statements if sql.startswith(("UPDATE", "SELECT", "WITH"))]


def test_planning_a_claim_or_the_low_probe_skips_no_dead_rows(transactional_db, company):
    old = incentive_pool_create(company=company, name="Deleted")
    insert_codes(old, "OLD", DEAD)
    pool = incentive_pool_create(company=company, name="Live")
    insert_codes(pool, "NEW", DEAD)
    IncentiveCode.objects.filter(pool=old).delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_incentivecode")
    first = IncentiveCode.objects.filter(pool=pool).order_by("id").values_list("id", flat=True)[0]
    for remembered in (None, first + 5):  # a fresh process, then a position in bucket one
        queue._taken_up_to.clear()
        if remembered:
            queue._taken_up_to[pool.pk] = remembered
        claim = statements_of(lambda: queue.code_take_next(pool, timezone.now()))
        probe = statements_of(lambda: unissued_at_most(pool, 10))
        for sql in claim + probe:
            # Planned with the position as a literal, the claim from the start read 112
            # pages here (the dead entries of the deleted pool's 40,000 codes).
            assert planning_buffers(sql) < 60, sql
    queue._taken_up_to.clear()
