"""A marketer's day in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import pytest

from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.services import person_add
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium
from .marketer import expect_text

pytestmark = needs_chromium


@pytest.fixture
def marketer_data(transactional_db):
    company = CompanyFactory(key="SHOP", name="Shop")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(
        company=company, name="tier", data_type="single_select",
        options=[("gold", "Gold"), ("silver", "Silver")],
    )  # fmt: skip
    company.refresh_from_db()
    person, _ = person_add(
        company=company, mdn="+16125550123", external_person_id="CRM-1",
        custom_fields={"first_name": "Ana", "tier": "silver"},
    )  # fmt: skip
    hidden = CompanyFactory(key="HIDDEN")
    person_add(company=hidden, mdn="+16125550999", external_person_id="SECRET-1")
    return person


def test_marketer_finds_and_edits_a_person(browser, live_server, marketer_data, tmp_path):
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    expect_text(page.locator("#total-persons"), "1")

    page.goto(f"{live_server.url}/admin/mobiledb/person/")
    assert "SECRET-1" not in page.content()
    page.fill("#searchbar", "(612) 555-0123")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**/person/?q=*")
    page.click("text=(612) 555-0123")
    page.wait_for_selector("#id_cf__first_name")

    assert page.locator("#id_cf__first_name").input_value() == "Ana"
    page.select_option("#id_cf__tier", "gold")
    page.click("input[name=_save]")
    success = page.wait_for_selector("ul.messagelist li.success")
    assert "was changed successfully" in success.inner_text()
    marketer_data.refresh_from_db()
    assert marketer_data.custom_fields["tier"] == "gold"


def test_the_person_list_is_usable_on_a_phone(browser, live_server, marketer_data, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/mobiledb/person/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#searchbar", state="visible")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 40  # no wide horizontal scroll on a phone
    page.screenshot(path=str(tmp_path / "phone.png"))
