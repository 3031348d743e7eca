"""The Add person page in Chromium: it stays put until the marketer picks a company, then
shows that company's custom fields (issue 14: it reloaded itself forever)."""

from __future__ import annotations

import pytest

from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import CompanyFactory, MembershipFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def two_companies(transactional_db):
    shop = CompanyFactory(key="SHOP", name="Shop")
    cafe = CompanyFactory(key="CAFE", name="Cafe")
    marketer = api_user_create(company=shop, username="marketer", password="secret-pw", staff=True)
    MembershipFactory(user=marketer, company=cafe)
    custom_field_create(company=shop, name="shoe_size", data_type="integer")
    custom_field_create(company=cafe, name="favourite_drink", data_type="string")
    return shop, cafe


def log_in(page, url: str) -> None:
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def test_add_person_page_stays_put_until_a_company_is_picked(browser, live_server, two_companies):
    shop, cafe = two_companies
    page = browser.new_page()
    log_in(page, live_server.url)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    page.goto(f"{live_server.url}/admin/mobiledb/person/add/")
    page.wait_for_selector("#id_company")
    page.wait_for_timeout(3000)
    assert len(navigations) == 1, navigations  # the goto itself, nothing after
    first = page.locator("#id_company").input_value()
    first_field = "#id_cf__shoe_size" if first == str(shop.pk) else "#id_cf__favourite_drink"
    assert page.locator(first_field).count() == 1

    other = cafe if first == str(shop.pk) else shop
    page.select_option("#id_company", str(other.pk))
    page.wait_for_url(f"**/person/add/?company={other.pk}")
    page.wait_for_timeout(3000)
    assert len(navigations) == 2, navigations  # one reload for the marketer's pick
    assert page.locator("#id_company").input_value() == str(other.pk)
    other_field = "#id_cf__favourite_drink" if other == cafe else "#id_cf__shoe_size"
    assert page.locator(other_field).count() == 1
    assert page.locator(first_field).count() == 0
