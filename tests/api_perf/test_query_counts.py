"""The number of queries of the person hot path, pinned so that it cannot silently grow.

Run outside a test transaction (`transactional_db`), so each request opens and commits
its own transactions as in production and BEGIN/COMMIT/savepoints show as they would.
A first request verifies the credential and caches the schema (the hot path is after).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.models import Person
from tests.conftest import APIClient
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

# Per request: the user row (a password change is seen at once) with the company and
# its membership check in the same query, then the work; a GET person by id or key reads
# the person in that same query too (vibesweb.api.permissions.RouteRow). A write: BEGIN, the persons
# holding the MDN or the external id (locked on PostgreSQL), the INSERT or UPDATE, the
# open callback registrations (the outbox), COMMIT; no savepoint. Same on SQLite and
# PostgreSQL.
EXPECTED = {"get": 1, "get_external": 2, "post": 6, "put": 6}


@pytest.fixture
def hot(transactional_db):
    company = CompanyFactory(key="HOT", name="Hot")
    user = MembershipFactory(company=company, user=UserFactory(username="hot-api")).user
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="points", data_type="integer")
    person = Person.objects.create(
        company=company, mdn="+16125550100", external_person_id="CRM-100",
        custom_fields={"first_name": "Ann", "points": 1},
    )  # fmt: skip
    api = APIClient(user.username)
    # The credential is remembered and the custom-field schema cached, as after a
    # worker's first request.
    assert api.get(f"/companies/HOT/mobiledb/persons/{person.pk}").status_code == 200
    return api, person


def queries_of(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [q["sql"] for q in captured.captured_queries]


def listing(sql: list[str]) -> str:
    return "\n".join(statement[:100] for statement in sql)


def expected(kind: str) -> int:
    return EXPECTED[kind]


def test_get_person_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    response, sql = queries_of(lambda: api.get(f"/companies/HOT/mobiledb/persons/{person.pk}"))
    assert response.status_code == 200
    assert len(sql) == expected("get"), listing(sql)


def test_get_person_by_external_id_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    response, sql = queries_of(lambda: api.get("/companies/HOT/mobiledb/persons/external/CRM-100"))
    assert response.status_code == 200
    assert len(sql) == expected("get_external"), listing(sql)


def test_post_person_runs_a_fixed_number_of_queries(hot):
    api, _ = hot
    body = {
        "external_person_id": "CRM-200",
        "mobile_phone": {"mdn": "6125550200"},
        "custom_fields": {"first_name": "Bo", "points": 2},
    }
    response, sql = queries_of(lambda: api.post("/companies/HOT/mobiledb/persons", body))
    assert response.status_code == 201, response.content
    assert len(sql) == expected("post"), listing(sql)


def test_put_person_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    body = {"custom_fields": {"points": 5}}
    response, sql = queries_of(
        lambda: api.put(f"/companies/HOT/mobiledb/persons/{person.pk}", body)
    )
    assert response.status_code == 200, response.content
    assert len(sql) == expected("put"), listing(sql)
