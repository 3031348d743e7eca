"""Shared set-up of the marketer's browser tests: a shop with named persons, a list, a tag."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.services import person_add, person_tag_add
from mobiledb.subscriptions.services import subscription_add, subscription_list_create
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", ["desktop", "phone"])


def new_page(browser, size: str):
    if size == "phone":
        return browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    return browser.new_page(viewport=DESKTOP)


def log_in(page, url: str, path: str = "/admin/") -> None:
    page.goto(f"{url}/admin/login/?{urlencode({'next': path})}")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def expect_message(page, text: str) -> None:
    """The admin's message list says `text`. Waits for it: right after a click the old page,
    or a message list the parser has not filled yet, may still be what the page holds."""
    expect_text(page.locator("ul.messagelist"), text, exact=False)


def expect_text(locator, text: str, exact: bool = True) -> None:
    """The element has (or, not exact, contains) `text`, once the page has drawn it."""
    # imported here: without Playwright the browser tests skip (conftest), not fail to load
    from playwright.sync_api import expect

    check = expect(locator).to_have_text if exact else expect(locator).to_contain_text
    check(text, timeout=15_000)


def horizontal_overflow(page) -> int:
    """How far the page is wider than the window (a phone must not scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def result_rows(page) -> list[str]:
    return page.locator("#result_list tbody tr").all_inner_texts()


@pytest.fixture
def shop(transactional_db):
    """SHOP: first/last name, a city shown as a column (labelled "Home city"), a tier;
    Ana Smith subscribed to News and tagged vip, Bob Jones never subscribed; and a company
    the marketer must never see."""
    company = CompanyFactory(key="SHOP", name="Shop")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="last_name", data_type="string")
    custom_field_create(
        company=company, name="city", data_type="string", label="Home city", list_column=True
    )
    custom_field_create(
        company=company, name="tier", data_type="single_select",
        options=[("gold", "Gold"), ("silver", "Silver")],
    )  # fmt: skip
    company.refresh_from_db()
    news = subscription_list_create(company=company, name="News")
    ana, _ = person_add(
        company=company, mdn="+16125550003", external_person_id="CRM-AB",
        custom_fields={"first_name": "Ana", "last_name": "Smith", "city": "Austin",
                       "tier": "gold"},
    )  # fmt: skip
    bob, _ = person_add(
        company=company, mdn="+16125550104", external_person_id="CRM-2",
        custom_fields={"first_name": "Bob", "last_name": "Jones", "city": "Boston",
                       "tier": "silver"},
    )  # fmt: skip
    subscription_add(person=ana, subscription_list=news)
    person_tag_add(person=ana, tag="vip")
    hidden = CompanyFactory(key="HIDDEN")
    person_add(company=hidden, mdn="+16125550003", external_person_id="SECRET-1")
    return {"company": company, "news": news, "ana": ana, "bob": bob}
