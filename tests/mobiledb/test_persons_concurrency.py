"""Concurrent adds of one new MDN through real HTTP leave exactly one person."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from mobiledb.models import Person
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and unique races need PostgreSQL"
)


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_adds_of_one_mdn_make_one_person(live_server):
    company = CompanyFactory(key="RACE")
    MembershipFactory(company=company, user=UserFactory(username="racer"))
    url = f"{live_server.url}/companies/RACE/mobiledb/persons"
    body = {"mobile_phone": {"mdn": "6125550142"}, "custom_fields": {}}

    def add(_):
        return requests.post(url, json=body, auth=("racer", "pw"), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(add, range(20)))

    assert Person.objects.filter(company=company).count() == 1
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201}, statuses


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_adds_of_one_external_id_make_one_person(live_server):
    """Ten adds of the same external id (and MDN) at once: the losers of the insert race
    retry as a merge, so every one answers 200 or 201 (a 409 or 500 would be a missing
    retry), exactly one created the person, and all name that one person."""
    company = CompanyFactory(key="RACE")
    MembershipFactory(company=company, user=UserFactory(username="racer"))
    url = f"{live_server.url}/companies/RACE/mobiledb/persons"

    def add(_):
        body = {"external_person_id": "SAME", "mobile_phone": {"mdn": "6125550143"}}
        response = requests.post(url, json=body, auth=("racer", "pw"), timeout=30)
        return response.status_code, response.json().get("person_id")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(add, range(10)))

    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) == 1
    person = Person.objects.get(company=company)
    assert {person_id for _, person_id in answers} == {person.pk}
