"""Date custom fields on the person page in Chromium: a date picker showing the day, and
saving without changes logs no change (issue 14)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from mobiledb.models import Person
from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.services import person_add
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium
from .test_person_add_in_chromium import log_in

pytestmark = needs_chromium


@pytest.fixture
def person_with_dates(transactional_db):
    company = CompanyFactory(key="SHOP", name="Shop")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    for name, data_type in [("birthday", "date"), ("signed_up", "date"), ("points", "integer"),
                            ("vip", "boolean"), ("first_name", "string")]:  # fmt: skip
        custom_field_create(company=company, name=name, data_type=data_type)
    company.refresh_from_db()
    person, _ = person_add(
        company=company, mdn="+16125550123",
        custom_fields={"birthday": "1990-12-31T00:00:00Z", "signed_up": "2024-05-06T15:34:52Z",
                       "points": 7, "vip": True, "first_name": "Ana"},
    )  # fmt: skip
    return person


def open_person(page, url: str, person: Person) -> None:
    page.goto(f"{url}/admin/mobiledb/person/{person.pk}/change/")
    page.wait_for_selector("#id_cf__birthday")


def test_date_fields_are_date_pickers_and_an_unchanged_save_logs_no_change(
    browser, live_server, person_with_dates
):
    page = browser.new_page()
    log_in(page, live_server.url)
    open_person(page, live_server.url, person_with_dates)
    birthday = page.locator("#id_cf__birthday")
    assert birthday.get_attribute("type") == "date"
    assert birthday.input_value() == "1990-12-31"
    assert page.locator("#id_cf__signed_up").input_value() == "2024-05-06"

    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")

    entry = LogEntry.objects.get(object_id=str(person_with_dates.pk))
    assert entry.get_change_message() == "No fields changed."
    stored = Person.objects.get(pk=person_with_dates.pk).custom_fields
    assert stored["birthday"] == "1990-12-31T00:00:00Z"
    assert stored["signed_up"] == "2024-05-06T15:34:52Z"  # its time kept


def test_a_changed_date_is_saved_as_that_day(browser, live_server, person_with_dates):
    page = browser.new_page()
    log_in(page, live_server.url)
    open_person(page, live_server.url, person_with_dates)

    page.fill("#id_cf__birthday", "1991-01-02")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")

    stored = Person.objects.get(pk=person_with_dates.pk).custom_fields
    assert stored["birthday"] == "1991-01-02T00:00:00Z"
    assert stored["signed_up"] == "2024-05-06T15:34:52Z"
    entry = LogEntry.objects.get(object_id=str(person_with_dates.pk))
    assert "birthday" in entry.get_change_message()
    assert "signed_up" not in entry.get_change_message()
