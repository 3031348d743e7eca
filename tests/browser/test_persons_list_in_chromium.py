"""The persons list as a marketer uses it, in Chromium at desktop and phone widths: name
and picked columns, status at a glance, search by name/value/partial phone/any-case id,
filters by custom field values and tags, phones in national format."""

from __future__ import annotations

from .conftest import needs_chromium
from .marketer import SIZES, horizontal_overflow, log_in, new_page, result_rows

pytestmark = needs_chromium


@SIZES
def test_the_list_shows_names_picked_columns_status_and_national_phones(
    browser, live_server, shop, size
):
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert "NAME" in [h.strip().upper() for h in headers]
    assert "HOME CITY" in [h.strip().upper() for h in headers]  # the label, not "city"
    rows = result_rows(page)
    ana = next(row for row in rows if "Ana Smith" in row)
    bob = next(row for row in rows if "Bob Jones" in row)
    assert "(612) 555-0003" in ana and "+1612" not in ana
    assert "Austin" in ana and "Subscribed" in ana
    assert "Never subscribed" in bob
    assert "SECRET-1" not in page.content()
    assert horizontal_overflow(page) <= 0


@SIZES
def test_search_finds_names_values_partial_phones_and_ids_in_any_case(
    browser, live_server, shop, size
):
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/person/")

    def search(term: str) -> list[str]:
        page.fill("#searchbar", term)
        page.press("#searchbar", "Enter")
        page.wait_for_load_state("load")
        return result_rows(page)

    found = search("0003")  # the end of Ana's number
    assert len(found) == 1 and "Ana Smith" in found[0]
    found = search("ana smith")
    assert len(found) == 1 and "Ana Smith" in found[0]
    found = search("boston")  # any custom field value
    assert len(found) == 1 and "Bob Jones" in found[0]
    found = search("crm-ab")  # external id written CRM-AB
    assert len(found) == 1 and "Ana Smith" in found[0]
    found = search("(612) 555-0104")
    assert len(found) == 1 and "Bob Jones" in found[0]
    assert search("nobody-like-this") == [] or "0 persons" in page.content()


@SIZES
def test_filters_by_custom_field_values_and_tags(browser, live_server, shop, size):
    page = new_page(browser, size)
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    if size == "desktop":
        page.click("#changelist-filter a:text-is('Gold')")
    else:
        page.goto(f"{live_server.url}/admin/mobiledb/person/?cf.tier=gold")
    page.wait_for_url("**cf.tier=gold**")
    rows = result_rows(page)
    assert len(rows) == 1 and "Ana Smith" in rows[0]

    page.goto(f"{live_server.url}/admin/mobiledb/person/?tag=vip")
    rows = result_rows(page)
    assert len(rows) == 1 and "Ana Smith" in rows[0]
    page.goto(f"{live_server.url}/admin/mobiledb/person/?cf.city=boston")  # text fields too
    rows = result_rows(page)
    assert len(rows) == 1 and "Bob Jones" in rows[0]


def test_the_marketer_picks_a_custom_field_as_a_column(browser, live_server, shop):
    page = new_page(browser, "desktop")
    log_in(page, live_server.url, "/admin/mobiledb/customfield/")
    row = page.locator("#result_list tbody tr", has_text="tier")
    row.locator("input[type=checkbox][name$=list_column]").check()
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    page.goto(f"{live_server.url}/admin/mobiledb/person/")
    headers = [h.strip().upper() for h in page.locator("#result_list thead th").all_inner_texts()]
    assert "TIER" in headers
    ana = next(row for row in result_rows(page) if "Ana Smith" in row)
    assert "Gold" in ana  # the option's label
