"""The statements of one issuance through the API, pinned so that they cannot silently grow.

Run outside a test transaction (`transactional_db`), so each request opens and commits
its own transactions as in production and BEGIN/COMMIT show as they would. A first
request verifies the credential (the hot path is after).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.incentives import queue
from campaigns.incentives.loading import incentive_codes_load
from campaigns.incentives.pools import incentive_pool_create
from tests.conftest import APIClient
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

# A new issuee of a unique pool. PostgreSQL: the user row (with the company, the
# membership check and the pool the URL names), the person the issuee id names, BEGIN,
# one statement that looks for the issuee's earlier issuance, takes the next code and
# writes the issuance, COMMIT, then the low-codes probe (the open callback registrations
# are read only for a company that has any: the user row's statement says so). SQLite: the
# earlier issuance is read before BEGIN, and the claim and the INSERT are two statements.
NEW_ISSUEE = {"postgresql": 6, "sqlite": 8}
# The same issuee again. PostgreSQL: the claim finds their issuance and takes nothing
# (BEGIN, the claim, COMMIT), then reads it and its code. SQLite: their issuance and its
# code are read before any transaction.
SAME_ISSUEE = {"postgresql": 7, "sqlite": 4}


@pytest.fixture
def hot(transactional_db):
    company = CompanyFactory(key="HOT", name="Hot")
    user = MembershipFactory(company=company, user=UserFactory(username="hot-api")).user
    pool = incentive_pool_create(company=company, name="Hot", low_threshold=1)
    incentive_codes_load(pool=pool, codes=[f"HOT{n:03d}" for n in range(20)])
    queue._taken_up_to.clear()
    api = APIClient(user.username)
    url = f"/companies/HOT/incentives/pools/{pool.pk}/issuances"
    # The credential is remembered and the queue's position set, as after a worker's
    # first issuance.
    assert api.post(url, {"external_issuee_id": "warm"}).status_code == 200
    yield api, url
    queue._taken_up_to.clear()


def statements_of(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [q["sql"] for q in captured.captured_queries]


def listing(sql: list[str]) -> str:
    return "\n".join(str(statement)[:100] for statement in sql)


def test_issuing_to_a_new_issuee_runs_a_fixed_number_of_statements(hot):
    api, url = hot
    response, sql = statements_of(lambda: api.post(url, {"external_issuee_id": "new-1"}))
    assert response.status_code == 200, response.content
    assert len(sql) == NEW_ISSUEE[connection.vendor], listing(sql)


def test_issuing_to_the_same_issuee_again_runs_a_fixed_number_of_statements(hot):
    api, url = hot
    first = api.post(url, {"external_issuee_id": "again"})
    response, sql = statements_of(lambda: api.post(url, {"external_issuee_id": "again"}))
    assert response.status_code == 200, response.content
    assert response.json()["incentive_code"] == first.json()["incentive_code"]
    assert len(sql) == SAME_ISSUEE[connection.vendor], listing(sql)
