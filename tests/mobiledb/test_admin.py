"""The admin as a marketer uses it: scoped to their companies, typed custom fields."""

from __future__ import annotations

import re

import pytest

from mobiledb.models import Person
from tests.factories import CompanyFactory, PersonFactory, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(company):
    return staff_client(company, "mobiledb", username="marketer")


@pytest.fixture
def other_person(db):
    return PersonFactory(company=CompanyFactory(key="OTHER"), mdn="+16125559999")


def test_changelist_shows_only_the_marketers_companies(marketer, company, other_person):
    mine = PersonFactory(company=company, mdn="+16125550001")
    page = marketer.get("/admin/mobiledb/person/").content.decode()
    assert "+16125550001" in page
    assert "+16125559999" not in page
    assert mine.external_person_id in page


def test_company_filter_offers_only_the_marketers_companies(marketer, company, other_person):
    page = marketer.get("/admin/mobiledb/person/").content.decode()
    assert "?company=" in page
    assert "OTHER" not in page


def test_another_companys_person_cannot_be_opened(marketer, other_person):
    response = marketer.get(f"/admin/mobiledb/person/{other_person.pk}/change/")
    assert response.status_code in (302, 404)
    assert "+16125559999" not in response.content.decode()


@pytest.mark.parametrize("term", ["6125550001", "(612) 555-0001", "+1 612 555 0001", "16125550001"])
def test_search_finds_an_mdn_in_any_common_format(marketer, company, term):
    PersonFactory(company=company, mdn="+16125550001", external_person_id="FINDME")
    PersonFactory(company=company, mdn="+16125550002", external_person_id="NOTME")
    page = marketer.get("/admin/mobiledb/person/", {"q": term}).content.decode()
    assert "FINDME" in page and "NOTME" not in page


def test_search_by_external_id_and_person_key(marketer, company, other_person):
    person = PersonFactory(company=company, external_person_id="CRM-7")
    assert "CRM-7" in marketer.get("/admin/mobiledb/person/", {"q": "CRM-7"}).content.decode()
    page = marketer.get("/admin/mobiledb/person/", {"q": str(person.person_key)}).content.decode()
    assert "CRM-7" in page
    page = marketer.get("/admin/mobiledb/person/", {"q": other_person.external_person_id})
    assert other_person.mdn not in page.content.decode()


def test_add_form_shows_custom_fields_as_typed_inputs(marketer, standard_fields):
    page = marketer.get("/admin/mobiledb/person/add/").content.decode()
    assert 'name="cf__points"' in page and 'type="number"' in page
    assert '<select name="cf__tier"' in page
    assert 'type="checkbox" name="cf__interests"' in page
    assert "custom_fields" not in page  # never raw JSON


def add_form(company, **overrides) -> dict:
    data = {
        "company": company.pk,
        "mdn": "(612) 555-0123",
        "external_person_id": "ADM-1",
        "carrier_code": "",
        "timezone": "",
        "cf__first_name": "Ana",
        "cf__points": "12",
        "cf__tier": "gold",
        "cf__interests": ["bags"],
        "tags-TOTAL_FORMS": "0",
        "tags-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def management_forms(client, url: str) -> dict:
    """The inline formsets' management fields, as the browser would post them back."""
    page = client.get(url).content.decode()
    pattern = r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"'
    return dict(re.findall(pattern, page))


def test_adding_a_person_stores_typed_values(marketer, standard_fields):
    response = marketer.post("/admin/mobiledb/person/add/", add_form(standard_fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get()
    assert person.mdn == "+16125550123"
    assert person.custom_fields == {
        "first_name": "Ana",
        "points": 12,
        "tier": "gold",
        "interests": ["bags"],
    }


def test_a_bad_custom_field_value_is_a_form_error(marketer, standard_fields):
    response = marketer.post(
        "/admin/mobiledb/person/add/", add_form(standard_fields, cf__points="many")
    )
    assert response.status_code == 200
    assert "Enter a whole number" in response.content.decode()
    assert Person.objects.count() == 0


def test_a_taken_mdn_is_a_form_error_not_a_merge(marketer, standard_fields):
    PersonFactory(company=standard_fields, mdn="+16125550123")
    response = marketer.post("/admin/mobiledb/person/add/", add_form(standard_fields))
    assert response.status_code == 200
    assert "Mobile Phone Already Assigned" in response.content.decode()


def test_editing_clears_an_emptied_field_and_keeps_the_rest(marketer, standard_fields):
    person = PersonFactory(
        company=standard_fields, custom_fields={"first_name": "Ana", "points": 3}
    )
    data = add_form(
        standard_fields, cf__first_name="", cf__points="4", cf__tier="", cf__interests=[]
    )
    data.pop("mdn")
    data["external_person_id"] = person.external_person_id
    data.update(management_forms(marketer, f"/admin/mobiledb/person/{person.pk}/change/"))
    response = marketer.post(f"/admin/mobiledb/person/{person.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    person.refresh_from_db()
    assert person.custom_fields == {"points": 4}


def test_company_choice_is_limited_to_the_marketers_companies(marketer, company, other_person):
    page = marketer.get("/admin/mobiledb/person/add/").content.decode()
    assert "Acme" in page and "Company" in page
    assert "OTHER" not in page
