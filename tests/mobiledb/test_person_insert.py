"""`person_add` inserts with one prepared raw statement (vibesweb.db.ModelInsert) instead
of `Person.save()`: what that skips must stay empty, and the row must be the ORM's."""

from __future__ import annotations

import pytest
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

from mobiledb.persons.models import Person
from mobiledb.persons.services import person_add
from tests.factories import CompanyFactory


def test_person_has_no_save_of_its_own_nor_save_receivers():
    assert Person.save is Model.save
    assert not pre_save.has_listeners(Person)
    assert not post_save.has_listeners(Person)


@pytest.mark.django_db
def test_added_person_is_the_row_the_orm_reads():
    company = CompanyFactory()
    person, created = person_add(
        company=company, mdn="+16125550123", external_person_id="X-1",
        timezone="America/Chicago", custom_fields={"a": "b", "gone": None},
    )  # fmt: skip
    assert created and person.pk is not None and not person._state.adding
    stored = Person.objects.get(pk=person.pk)
    for field in Person._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(person, field.attname), field.name
    assert stored.custom_fields == {"a": "b"}
    assert stored.created_at is not None and stored.updated_at is not None
