"""The per-process cache of a company's custom field schema (SPEC 4) never serves one
company's fields to another, even when the database hands a deleted company's id on."""

from __future__ import annotations

import pytest

from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.selectors import custom_field_schema
from vibesweb.tenancy.models import Company

pytestmark = pytest.mark.django_db


def field_names(company: Company) -> set[str]:
    company.refresh_from_db()
    return set(custom_field_schema(company).by_name)


def test_a_company_given_a_deleted_companys_id_does_not_get_its_cached_fields():
    old = Company.objects.create(key="OLD", name="Old")
    custom_field_create(company=old, name="first_name", data_type="string")
    assert field_names(old) == {"first_name"}  # cached for (id, version)
    reused_id = old.pk
    old.delete()

    # SQLite gives the highest deleted id to the next row; made explicit here
    new = Company.objects.create(pk=reused_id, key="NEW", name="New")
    custom_field_create(company=new, name="zip_code", data_type="string")

    assert field_names(new) == {"zip_code"}


def test_every_change_of_a_field_is_seen_through_the_cache():
    company = Company.objects.create(key="ACME2", name="Acme")
    assert field_names(company) == set()
    custom_field_create(company=company, name="tier", data_type="string")
    assert field_names(company) == {"tier"}
