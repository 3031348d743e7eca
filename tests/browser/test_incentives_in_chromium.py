"""A marketer's code upload in a real browser: scoped pool choices, live progress without
reloading, the refused-codes report download; the pool list's low warning."""

from __future__ import annotations

import pytest
from django.conf import settings

from campaigns.incentives.pools import incentive_pool_create
from campaigns.incentives.uploads import incentive_code_upload_run
from campaigns.models import IncentiveCode, IncentiveCodeUpload
from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create

from .conftest import needs_chromium
from .test_imports_in_chromium import log_in

pytestmark = needs_chromium


@pytest.fixture
def shop_pool(transactional_db, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    company = CompanyFactory(key="SHOP", name="Shop")
    incentive_pool_create(company=CompanyFactory(key="HIDDEN"), name="Hidden pool")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    return incentive_pool_create(company=company, name="Spring codes", low_threshold=5)


def test_code_upload_shows_live_progress_and_the_refused_report(
    browser, live_server, shop_pool, tmp_path
):
    codes = tmp_path / "codes.csv"
    codes.write_bytes(b"\xef\xbb\xbfcode\r\nSPRING1\r\n\r\nSPRING2\r\nSPRING1\r\n")
    page = browser.new_page()
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/admin/campaigns/incentivepool/")
    assert "⚠ low" in page.content()  # 0 codes left, threshold 5

    page.goto(f"{live_server.url}/admin/campaigns/incentivecodeupload/add/")
    assert "Hidden pool" not in page.locator("#id_pool").inner_text()  # scoped choices
    page.select_option("#id_pool", label="Spring codes")
    page.set_input_files("#id_file", str(codes))
    page.click("input[name=_save]")
    page.wait_for_selector("#upload-progress")
    assert page.locator("#upload-status").inner_text() == "queued"
    page.evaluate("window.stillTheSamePage = true")

    incentive_code_upload_run(IncentiveCodeUpload.objects.get().pk)  # the worker's part

    page.wait_for_function(
        "document.getElementById('upload-status').textContent === 'finished'", timeout=15_000
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.locator("#upload-added").inner_text() == "2"
    assert page.locator("#upload-refused").inner_text() == "1"
    assert IncentiveCode.objects.filter(pool=shop_pool).count() == 2
    with page.expect_download() as download_info:
        page.click("text=Download refused codes (CSV)")
    report = download_info.value.path().read_text()
    assert "5,SPRING1,duplicate of line 2" in report
