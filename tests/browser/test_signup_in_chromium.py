"""The web sign-up page on a phone, in Debian's Chromium (SPEC section 13)."""

from __future__ import annotations

import pytest

from mobiledb.models import ConsentRecord, Subscription
from tests.factories import CompanyFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory

from .conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def campaign(transactional_db):
    company = CompanyFactory(key="SHOP", name="Shop")
    return AcquisitionCampaignFactory(
        company=company,
        name="Shop VIP texts",
        web_signup=True,
        disclosure="Shop VIP: 4 msgs/month. Msg & data rates may apply. Reply STOP to cancel.",
    )


def test_a_phone_signs_up_without_anything_cut_off(browser, live_server, campaign):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(live_server.url + campaign.signup_path)
    assert page.locator("h1").inner_text() == "Shop VIP texts"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    honeypot = page.locator("#id_website").bounding_box()
    assert honeypot["x"] + honeypot["width"] <= 0  # off screen: only bots fill it in

    page.click("button[type=submit]")  # nothing filled in: form errors, nothing saved
    page.wait_for_selector(".errors")
    assert not Subscription.objects.exists()

    page.fill("#id_mdn", "(612) 555-0123")
    page.check("#id_agree")
    page.click("button[type=submit]")
    page.wait_for_selector("#signup-done")
    assert "you are signed up" in page.inner_text("#signup-done")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    record = ConsentRecord.objects.get()
    assert (record.channel, record.mdn) == ("web", "+16125550123")
