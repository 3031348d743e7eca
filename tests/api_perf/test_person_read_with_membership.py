"""GET person reads the person in the authentication's query (one round trip): that
read must answer exactly what the two-query path answered, for every case the URL can
name. Each test warms the credential first, so the request under test takes the
remembered-credential path where the combined read happens."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import APIClient
from tests.factories import CompanyFactory, MembershipFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_companies():
    mine = CompanyFactory(key="MINE")
    theirs = CompanyFactory(key="THEIRS")
    user = MembershipFactory(company=mine, user=UserFactory(username="reader")).user
    api = APIClient(user.username)
    assert api.get("/companies/MINE/mobiledb/persons").status_code == 200  # remembered now
    return api, user, mine, theirs


def person_url(key: str, id_or_key) -> str:
    return f"/companies/{key}/mobiledb/persons/{id_or_key}"


def test_a_person_is_read_by_id_and_by_key(two_companies):
    api, _, mine, _ = two_companies
    person = PersonFactory(company=mine, mdn="+16125550101")
    by_id = api.get(person_url("MINE", person.pk))
    by_key = api.get(person_url("MINE", person.person_key))
    assert by_id.status_code == by_key.status_code == 200
    assert by_id.json() == by_key.json()
    assert by_id.json()["person_id"] == person.pk
    assert by_id.json()["url"].endswith(f"/companies/MINE/mobiledb/persons/{person.pk}")


def test_another_companys_person_is_not_found_in_mine(two_companies):
    api, _, _, theirs = two_companies
    person = PersonFactory(company=theirs, mdn="+16125550102")
    for id_or_key in (person.pk, person.person_key):
        response = api.get(person_url("MINE", id_or_key))
        assert response.status_code == 404
        assert response.json() == {"errors": [{"message": "Person not found", "code": 120}]}
        assert str(person.mdn) not in response.content.decode()


def test_another_companys_key_is_404_whatever_person_it_names(two_companies):
    api, _, _, theirs = two_companies
    person = PersonFactory(company=theirs, mdn="+16125550103")
    response = api.get(person_url("THEIRS", person.pk))
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "No such company", "code": 120}]}
    assert str(person.mdn) not in response.content.decode()


def test_an_unknown_or_deleted_person_is_not_found(two_companies):
    api, _, mine, _ = two_companies
    person = PersonFactory(company=mine, mdn="+16125550104")
    gone = person.pk
    person.delete()
    assert api.get(person_url("MINE", gone)).status_code == 404
    assert api.get(person_url("MINE", uuid.uuid4())).status_code == 404


def test_an_invalid_person_id_is_refused_as_before(two_companies):
    api, *_ = two_companies
    response = api.get(person_url("MINE", "not-an-id"))
    assert response.status_code == 400
    assert "Invalid person_id" in response.content.decode()


def test_a_removed_membership_ends_the_read_on_the_next_request(two_companies):
    api, user, mine, _ = two_companies
    person = PersonFactory(company=mine, mdn="+16125550105")
    assert api.get(person_url("MINE", person.pk)).status_code == 200
    user.memberships.all().delete()
    response = api.get(person_url("MINE", person.pk))
    assert response.status_code == 404
    assert str(person.mdn) not in response.content.decode()


def test_a_person_changed_meanwhile_is_read_as_it_is_now(two_companies):
    api, _, mine, _ = two_companies
    person = PersonFactory(company=mine, mdn="+16125550106", custom_fields={})
    assert api.get(person_url("MINE", person.pk)).status_code == 200
    response = api.put(person_url("MINE", person.pk), {"external_person_id": "CRM-NEW"})
    assert response.status_code == 200, response.content
    assert api.get(person_url("MINE", person.pk)).json()["external_person_id"] == "CRM-NEW"
