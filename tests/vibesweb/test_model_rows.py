"""`vibesweb.db`: instances read by one raw statement are the ORM's instances."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_init

from mobiledb.persons.models import Person
from tests.factories import CompanyFactory
from vibesweb.db import ModelRows, instance_from_db
from vibesweb.tenancy.models import Company

pytestmark = pytest.mark.django_db


def test_a_row_read_raw_is_the_instance_the_orm_reads():
    company = CompanyFactory()
    person = Person.objects.create(
        company=company, mdn="+16125550140", external_person_id="R-1",
        custom_fields={"first_name": "Ann", "tags": ["a", "b"]},
    )  # fmt: skip
    raw = ModelRows(Person).first("WHERE id = %s", [person.pk])
    orm = Person.objects.get(pk=person.pk)
    assert raw == orm and not raw._state.adding and raw._state.db == "default"
    for field in Person._meta.concrete_fields:
        assert getattr(raw, field.attname) == getattr(orm, field.attname), field.name
    assert raw.company == company  # the relation resolves as the ORM's does


def test_fields_left_out_are_deferred_and_load_on_access():
    company = CompanyFactory(name="Deferred Co")
    read = ModelRows(Company, fields=["id", "key"]).first("WHERE id = %s", [company.pk])
    assert read.get_deferred_fields() >= {"name"}
    assert read.name == "Deferred Co"


def test_a_model_with_post_init_receivers_is_built_by_its_init():
    company = CompanyFactory()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Company)
    try:
        built = instance_from_db(Company, "default", ["id", "key"], [company.pk, company.key])
    finally:
        post_init.disconnect(receiver, sender=Company)
    assert seen == [built] and built.key == company.key and not built._state.adding
