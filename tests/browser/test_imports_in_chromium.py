"""An admin's import in a real browser: upload, live progress without reloading, the
error report download."""

from __future__ import annotations

import pytest
from django.conf import settings

from mobiledb.imports.models import PersonImport
from mobiledb.imports.services import person_import_run
from mobiledb.models import Person
from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def admin_of_shop(transactional_db, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    company = CompanyFactory(key="SHOP", name="Shop")
    CompanyFactory(key="HIDDEN", name="Hidden")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    custom_field_create(company=company, name="first_name", data_type="string")
    return company


def log_in(page, url):
    page.goto(f"{url}/admin/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def open_upload_form(page, url):
    page.goto(f"{url}/admin/mobiledb/personimport/add/")


def submit_upload(page, path):
    page.select_option("#id_company", label="Shop (SHOP)")
    page.set_input_files("#id_file", str(path))
    page.click("input[name=_save]")


def test_upload_shows_live_progress_and_the_error_report(
    browser, live_server, admin_of_shop, tmp_path
):
    crm_file = tmp_path / "crm.persons"
    crm_file.write_text("mdn,first_name\n2295551234,Ann\n2295551235,Bob\nnot-a-number,Cy\n")
    page = browser.new_page()
    log_in(page, live_server.url)

    open_upload_form(page, live_server.url)
    assert "HIDDEN" not in page.locator("#id_company").inner_text()  # scoped choices
    submit_upload(page, crm_file)
    page.wait_for_selector("#import-progress")
    assert page.locator("#import-status").inner_text() == "pending"
    page.evaluate("window.stillTheSamePage = true")

    # The worker's part: the import runs while the page is open.
    person_import_run(PersonImport.objects.get().pk)

    page.wait_for_function(
        "document.getElementById('import-status').textContent === 'finished'", timeout=15_000
    )
    assert page.evaluate("window.stillTheSamePage") is True  # updated without reloading
    assert page.locator("#import-rows").inner_text() == "3"
    assert page.locator("#import-created").inner_text() == "2"
    assert page.locator("#import-failed").inner_text() == "1"
    assert page.locator("#import-bar").get_attribute("value") == "100"
    assert Person.objects.filter(company=admin_of_shop).count() == 2

    with page.expect_download() as download_info:
        page.click("text=Download error report (CSV)")
    report = download_info.value.path().read_text()
    assert "MobilePhoneErrors::InvalidMDNFormat" in report
    assert "not-a-number" in report


def test_an_upload_that_is_not_a_persons_file_is_refused_with_a_form_error(
    browser, live_server, admin_of_shop, tmp_path
):
    wrong = tmp_path / "crm.csv"
    wrong.write_text("mdn\n2295551234\n")
    page = browser.new_page()
    log_in(page, live_server.url)

    open_upload_form(page, live_server.url)
    submit_upload(page, wrong)

    error = page.wait_for_selector(".errorlist")
    assert ".persons" in error.inner_text()
    assert PersonImport.objects.count() == 0


def test_a_finished_import_page_agrees_with_itself(browser, live_server, admin_of_shop, tmp_path):
    crm_file = tmp_path / "crm.persons"
    crm_file.write_text("mdn,first_name\n" + "".join(f"22955512{n:02d},Ann\n" for n in range(40)))
    page = browser.new_page()
    log_in(page, live_server.url)
    open_upload_form(page, live_server.url)
    submit_upload(page, crm_file)
    page.wait_for_selector("#import-progress")
    page.evaluate("window.stillTheSamePage = true")

    person_import_run(PersonImport.objects.get().pk)  # finishes while the page is open

    page.wait_for_function("!document.title.includes('pending')", timeout=15_000)
    page.wait_for_selector(".field-status .readonly:text('finished')", timeout=15_000)
    assert page.evaluate("window.stillTheSamePage") is True  # redrawn in place
    content = page.locator("#content").inner_text()
    assert "pending" not in content and "pending" not in page.title()
    assert page.locator(".field-rows .readonly").inner_text() == "40"
    assert page.locator(".field-created .readonly").inner_text() == "40"
    size = page.locator(".field-size .readonly").inner_text()
    assert size.endswith("bytes") or size.endswith("KB"), size  # e.g. "640 bytes", not "640"
    assert page.locator(".field-size .readonly").inner_text() != str(crm_file.stat().st_size)
    assert "ETA" not in content and "– s" not in content and "- s" not in content
    assert not page.locator("#import-errors").is_visible()  # no errors: nothing to download
    assert "Download error report" not in content or page.locator("#import-errors").is_hidden()
