"""The wallet in a real browser: the SmartLink page on a phone (390 px) and the campaign
admin's live pass preview (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import pytest

from tests.factories import CompanyFactory
from vibesweb.tenancy.services import api_user_create
from wallet.models import WalletItem
from wallet.passkit.certificates import pass_credentials
from wallet.services.campaigns import wallet_campaign_create

from .conftest import needs_chromium

pytestmark = needs_chromium
DESIGN = {
    "background_color": "#1e3a8a",
    "logo_text": "Acme Rewards",
    "primary_fields": [{"key": "name", "label": "Member", "value": "{{first_name}}"}],
}


@pytest.fixture
def wallet_data(transactional_db, tmp_path, settings):
    settings.WALLET_DEV_CERT_DIR = str(tmp_path / "keys")
    pass_credentials.cache_clear()
    company = CompanyFactory(key="SHOP", name="Shop")
    api_user_create(company=company, username="marketer", password="secret-pw", staff=True)
    yield wallet_campaign_create(
        company=company, fields={"name": "Rewards", "type": "loyalty", "design": DESIGN}
    )
    pass_credentials.cache_clear()


def test_smartlink_page_on_a_phone(browser, live_server, wallet_data, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{live_server.url}/c/{wallet_data.wallet_id}?uuid=p-1&data[first_name]=Ann")
    apple = page.locator("#add-to-apple-wallet")
    google = page.locator("#save-to-google-wallet")
    assert apple.inner_text() == "Add to Apple Wallet"
    assert google.inner_text() == "Save to Google Wallet"
    for button in (apple, google):
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # fully on screen
        assert box["height"] >= 44  # a comfortable tap target
    assert "Ann" in page.locator("[data-pass-card]").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert apple.get_attribute("href").endswith(f"/c/{wallet_data.wallet_id}/p-1.pkpass")
    assert google.get_attribute("href").startswith("https://pay.google.com/gp/v/save/")
    assert WalletItem.objects.get().tokens == {"first_name": "Ann"}
    # the Apple button downloads the signed pass
    response = page.request.get(apple.get_attribute("href"))
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    page.screenshot(path=str(tmp_path / "smartlink.png"))


def test_campaign_admin_preview_updates_as_the_marketer_types(
    browser, live_server, wallet_data, tmp_path
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/wallet/walletcampaign/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "secret-pw")
    page.click("input[type=submit]")
    page.click("text=Rewards")
    preview = page.locator("#wallet-pass-preview")
    preview.wait_for()
    assert "Acme Rewards" in preview.inner_text()
    assert "Ann" in preview.inner_text()  # the default sample tokens

    page.fill("#id_logo_text", "Summer Club")
    page.wait_for_function(
        "document.getElementById('wallet-pass-preview').innerText.includes('Summer Club')"
    )
    page.fill("#id_preview_tokens", "first_name=Zelda")
    page.wait_for_function(
        "document.getElementById('wallet-pass-preview').innerText.includes('Zelda')"
    )
    page.fill("#id_primary_label", "Holder")
    page.wait_for_function(
        "document.getElementById('wallet-pass-preview').innerText.includes('HOLDER')"
        " || document.getElementById('wallet-pass-preview').innerText.includes('Holder')"
    )
    page.evaluate(
        "el => { el.value = '#aa0000'; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        page.locator("#id_background_color").element_handle(),
    )
    page.wait_for_function(
        "getComputedStyle(document.querySelector('#wallet-pass-preview [data-pass-card]'))"
        ".backgroundColor === 'rgb(170, 0, 0)'"
    )
    page.screenshot(path=str(tmp_path / "preview.png"))
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    wallet_data.refresh_from_db()
    assert wallet_data.design["logo_text"] == "Summer Club"
    assert wallet_data.design["background_color"] == "#aa0000"
