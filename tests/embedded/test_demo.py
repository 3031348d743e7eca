"""`manage.py demo` runs at every `bin/run`: it creates what is missing, changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from callbacks.models import CallbackEvent
from mobiledb.models import Person
from mobiledb.persons.services import person_update
from tests.factories import CallbackRegistrationFactory
from vibesweb.tenancy.models import Company


@pytest.mark.django_db
def test_demo_again_keeps_an_edited_person_and_fires_no_callback():
    call_command("demo", stdout=None)
    company = Company.objects.get(key="DEMO")
    person = Person.objects.get(company=company, external_person_id="CRM-1000")
    person_update(person=person, custom_fields={"first_name": "Edited", "zip_code": "55401"})
    edited = Person.objects.get(pk=person.pk)
    CallbackRegistrationFactory(company=company, callback_type="person_updated")
    count = Person.objects.filter(company=company).count()

    call_command("demo")

    again = Person.objects.get(pk=person.pk)
    assert again.custom_fields == edited.custom_fields
    assert again.custom_fields["first_name"] == "Edited"
    assert again.updated_at == edited.updated_at
    assert Person.objects.filter(company=company).count() == count
    assert CallbackEvent.objects.count() == 0


@pytest.mark.django_db
def test_demo_again_keeps_a_changed_demo_password():
    call_command("demo")
    marketer = get_user_model().objects.get(username="marketer")
    marketer.set_password("a-new-secret")
    marketer.save()

    call_command("demo")

    assert get_user_model().objects.get(username="marketer").check_password("a-new-secret")


@pytest.mark.django_db
def test_demo_recreates_a_missing_person():
    call_command("demo")
    company = Company.objects.get(key="DEMO")
    Person.objects.filter(company=company, external_person_id="CRM-1003").delete()

    call_command("demo")

    assert Person.objects.filter(company=company, external_person_id="CRM-1003").exists()
