"""The number of queries of the person hot path, pinned so that it cannot silently grow.

Run outside a test transaction (`transactional_db`), so each request opens and commits
its own transactions as in production and BEGIN/COMMIT/savepoints show as they would.
A first request verifies the credential and caches the schema (the hot path is after).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callbacks.services.registrations import registration_end
from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.models import Person
from tests.conftest import APIClient
from tests.factories import (
    CallbackRegistrationFactory,
    CompanyFactory,
    MembershipFactory,
    UserFactory,
)

# Per request: the user row (a password change is seen at once) with the company, its
# membership check and whether it has an open callback registration, in the same query,
# then the work; a GET person by id or key reads the person in that same query too
# (vibesweb.api.permissions.RouteRow). A new person of a company nobody listens to is one
# INSERT on its own. Any other write: BEGIN, the persons holding the MDN or the external id
# (locked on PostgreSQL), the INSERT or UPDATE, the open callback registrations if the
# company has any (with an event and its deliveries if one matches), COMMIT; no savepoint.
# Same on SQLite and PostgreSQL.
EXPECTED = {
    "get": 1,
    "get_external": 2,
    "post": 2,
    "post_listened_to": 8,
    "post_merge": 6,
    "put": 5,
    "put_listened_to": 8,
}


@pytest.fixture(params=["quiet"])
def hot(request, transactional_db):
    """A company with a person; `listened_to`: person_added and person_updated
    callbacks registered; `no_longer_listened_to`: one that has ended (the default:
    none)."""
    company = CompanyFactory(key="HOT", name="Hot")
    user = MembershipFactory(company=company, user=UserFactory(username="hot-api")).user
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="points", data_type="integer")
    person = Person.objects.create(
        company=company, mdn="+16125550100", external_person_id="CRM-100",
        custom_fields={"first_name": "Ann", "points": 1},
    )  # fmt: skip
    if request.param == "listened_to":
        CallbackRegistrationFactory(company=company, callback_type="person_added")
        CallbackRegistrationFactory(company=company, callback_type="person_updated")
    if request.param == "no_longer_listened_to":
        registration = CallbackRegistrationFactory(company=company, callback_type="person_added")
        registration_end(registration=registration)
    api = APIClient(user.username)
    # The credential is remembered and the custom-field schema cached, as after a
    # worker's first request.
    assert api.get(f"/companies/HOT/mobiledb/persons/{person.pk}").status_code == 200
    return api, person


def queries_of(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [q["sql"] for q in captured.captured_queries]


# (PostgreSQL's server-bound statements are recorded without their SQL: None)
def listing(sql: list[str]) -> str:
    return "\n".join(str(statement)[:100] for statement in sql)


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


@pytest.mark.parametrize("hot", ["quiet", "no_longer_listened_to"], indirect=True)
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


@pytest.mark.parametrize("hot", ["listened_to"], indirect=True)
def test_post_person_of_a_company_with_callbacks_writes_its_event_in_the_same_transaction(hot):
    api, _ = hot
    body = {"external_person_id": "CRM-201", "mobile_phone": {"mdn": "6125550201"}}
    response, sql = queries_of(lambda: api.post("/companies/HOT/mobiledb/persons", body))
    assert response.status_code == 201, response.content
    assert len(sql) == expected("post_listened_to"), listing(sql)
    assert sql[1].startswith("BEGIN") and sql[-1] == "COMMIT", listing(sql)


def test_post_person_merging_into_an_existing_number_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    body = {"mobile_phone": {"mdn": "6125550100"}, "custom_fields": {"points": 7}}
    response, sql = queries_of(lambda: api.post("/companies/HOT/mobiledb/persons", body))
    assert response.status_code == 200, response.content
    assert response.json()["person_id"] == person.pk
    assert len(sql) == expected("post_merge"), listing(sql)


def test_put_person_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    body = {"custom_fields": {"points": 5}}
    response, sql = queries_of(
        lambda: api.put(f"/companies/HOT/mobiledb/persons/{person.pk}", body)
    )
    assert response.status_code == 200, response.content
    assert len(sql) == expected("put"), listing(sql)


@pytest.mark.parametrize("hot", ["listened_to"], indirect=True)
def test_put_person_of_a_company_with_callbacks_runs_a_fixed_number_of_queries(hot):
    api, person = hot
    response, sql = queries_of(
        lambda: api.put(
            f"/companies/HOT/mobiledb/persons/{person.pk}", {"custom_fields": {"points": 6}}
        )
    )
    assert response.status_code == 200, response.content
    assert len(sql) == expected("put_listened_to"), listing(sql)
