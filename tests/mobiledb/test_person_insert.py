"""`person_add` inserts with one prepared raw statement (vibesweb.db.ModelInsert) instead
of `Person.save()`: what that skips must stay empty, and the row must be the ORM's."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

from mobiledb.errors import ExternalIdAlreadyAssigned
from mobiledb.persons.models import Person
from mobiledb.persons.services import person_add
from tests.factories import CompanyFactory
from vibesweb.db import ModelInsert


def test_person_has_no_save_of_its_own_nor_save_receivers():
    assert Person.save is Model.save
    assert not pre_save.has_listeners(Person)
    assert not post_save.has_listeners(Person)


def _quiet_company():
    """A company as an API request reads it when nothing is registered for callbacks."""
    company = CompanyFactory()
    company.callback_registrations_open = False
    return company


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_company", [CompanyFactory, _quiet_company], ids=["in_a_transaction", "one_insert"]
)
def test_added_person_is_the_row_the_orm_reads(make_company):
    person, created = person_add(
        company=make_company(), mdn="+16125550123", external_person_id="X-1",
        timezone="America/Chicago", custom_fields={"a": "b", "gone": None},
    )  # fmt: skip
    assert created and person.pk is not None and not person._state.adding
    stored = Person.objects.get(pk=person.pk)
    for field in Person._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(person, field.attname), field.name
    assert stored.timezone_source == "api" and stored.custom_fields == {"a": "b"}
    assert stored.created_at is not None and stored.updated_at is not None


@pytest.mark.django_db
def test_a_quiet_company_s_add_of_a_known_number_merges_into_its_person():
    company = _quiet_company()
    first, _ = person_add(company=company, mdn="+16125550125", custom_fields={"a": "1"})
    again, created = person_add(
        company=company, mdn="+16125550125", external_person_id="X-3", custom_fields={"b": "2"}
    )
    assert not created and again.pk == first.pk
    stored = Person.objects.get(pk=first.pk)
    assert stored.external_person_id == "X-3" and stored.custom_fields == {"a": "1", "b": "2"}
    assert Person.objects.filter(company=company).count() == 1


@pytest.mark.django_db
def test_a_quiet_company_s_add_with_another_person_s_external_id_is_refused():
    company = _quiet_company()
    person_add(company=company, mdn="+16125550126", external_person_id="X-4")
    with pytest.raises(ExternalIdAlreadyAssigned):
        person_add(company=company, mdn="+16125550127", external_person_id="X-4")
    with pytest.raises(ExternalIdAlreadyAssigned):
        person_add(company=company, external_person_id="X-4")
    assert Person.objects.filter(company=company).count() == 1


@pytest.mark.django_db
def test_insert_if_new_writes_nothing_and_leaves_the_transaction_usable_on_a_taken_value():
    company = CompanyFactory()
    Person.objects.create(company=company, mdn="+16125550128")
    with transaction.atomic():
        taken = Person(company=company, mdn="+16125550128")
        assert ModelInsert(Person).insert_if_new(taken) is False
        assert taken.pk is None and taken._state.adding
        fresh = Person(company=company, mdn="+16125550129")
        assert ModelInsert(Person).insert_if_new(fresh) is True
    assert Person.objects.filter(company=company).count() == 2
    assert Person.objects.get(pk=fresh.pk).mdn == "+16125550129"
