"""Export any filtered persons list as a plain CSV spreadsheet (UTF-8, a column per custom
field, formula-safe) as well as a `.persons` file."""

from __future__ import annotations

import csv
import io

from mobiledb.persons.services import person_update

from .conftest import needs_chromium
from .marketer import SIZES, log_in, new_page

pytestmark = needs_chromium


def download(page, click) -> str:
    with page.expect_download() as info:
        click()
    return open(info.value.path(), encoding="utf-8-sig").read()


@SIZES
def test_the_filtered_list_downloads_as_a_safe_utf8_csv(browser, live_server, shop, size):
    ana = shop["ana"]
    person_update(
        person=ana, custom_fields={"city": '=HYPERLINK("http://x")', "last_name": "Müller"}
    )
    page = new_page(browser, size)
    company = shop["company"].pk
    log_in(page, live_server.url, f"/admin/mobiledb/person/?company={company}&cf.tier=gold")
    text = download(page, lambda: page.click("#export-csv"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:7] == [
        "person_id", "phone", "external_person_id", "Home city", "first_name", "last_name", "tier",
    ]  # fmt: skip
    assert len(rows) == 2  # the filter: gold only
    ana_row = dict(zip(rows[0], rows[1], strict=True))
    assert ana_row["last_name"] == "Müller"
    assert ana_row["Home city"] == '\'=HYPERLINK("http://x")'  # never a live formula
    assert ana_row["phone"] == "+16125550003"  # a number, not escaped
    assert ana_row["tier"] == "Gold"
    assert ana_row["subscribed lists"] == "News" and ana_row["tags"] == "vip"


def test_a_selection_exports_as_csv_or_as_a_persons_file(browser, live_server, shop):
    page = new_page(browser, "desktop")
    log_in(page, live_server.url, "/admin/mobiledb/person/")
    page.check(f"input.action-select[value='{shop['bob'].pk}']")
    page.select_option("select[name=action]", "export_csv")
    text = download(page, lambda: page.click("button[name=index]"))
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][1] == "+16125550104"
    page.check(f"input.action-select[value='{shop['bob'].pk}']")
    page.select_option("select[name=action]", "export_persons")
    text = download(page, lambda: page.click("button[name=index]"))
    assert text.startswith("Multi-Select-Delimiter") and "+16125550104" in text
