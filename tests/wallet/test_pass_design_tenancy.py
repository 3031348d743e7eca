"""Tenant isolation of the templates, stores and location selector: another company's
campaign token answers 404 on every new path and method, under either company's key, and
changes nothing."""

from __future__ import annotations

import pytest

from wallet.models import WalletLocation, WalletLocationSelector, WalletTemplate
from wallet.services.location_selector import wallet_location_selector_create
from wallet.services.locations import wallet_locations_add
from wallet.services.templates import wallet_template_create

from .test_templates_api import GOOGLE, PASSBOOK

pytestmark = pytest.mark.django_db

STORES = {"locations": [{"name": "Mine", "latitude": "1", "longitude": "2"}]}
SELECTOR = {"location_selector": {"header": {"title": "Mine"}}}
# (method, path after the campaign token, body)
CALLS = [
    ("get", "passbook_template", None),
    ("post", "passbook_template", PASSBOOK),
    ("put", "passbook_template", PASSBOOK),
    ("get", "wallet_template", None),
    ("post", "wallet_template", GOOGLE),
    ("put", "wallet_template", GOOGLE),
    ("get", "location_selector", None),
    ("post", "location_selector", SELECTOR),
    ("put", "location_selector", SELECTOR),
    ("delete", "location_selector", None),
    ("get", "locations", None),
    ("post", "locations/bulk", STORES),
    ("delete", "locations/{store}", None),
    ("delete", "locations/delete_all", None),
]


@pytest.fixture
def owned(campaign):
    """ACME's campaign with both templates, a selector and a store."""
    wallet_template_create(campaign=campaign, kind="passbook", body=PASSBOOK)
    wallet_template_create(campaign=campaign, kind="google_wallet", body=GOOGLE)
    wallet_location_selector_create(campaign=campaign, body=SELECTOR)
    store = wallet_locations_add(campaign=campaign, body=STORES, idempotency_key="k")[0]
    return campaign, store["id"]


def snapshot() -> tuple:
    return (
        list(WalletTemplate.objects.values_list("id", "body", "updated_at")),
        list(WalletLocation.objects.values_list("id", "name")),
        list(WalletLocationSelector.objects.values_list("id", "title", "updated_at")),
    )


@pytest.mark.parametrize(("method", "suffix", "body"), CALLS, ids=lambda v: str(v)[:24])
def test_another_company_reaches_none_of_it(api, other_api, owned, method, suffix, body):
    campaign, store = owned
    suffix = suffix.format(store=store)
    before = snapshot()
    # The other company on our key, and on its own key with our token.
    for client, key in ((other_api, campaign.company.key), (other_api, "OTHER")):
        url = f"/companies/{key}/campaigns/wallet/{campaign.wallet_id}/{suffix}"
        response = client.request(method, url, body, HTTP_IDEMPOTENCY_KEY="theirs")
        assert response.status_code == 404, (url, response.content)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "suffix", "body"), CALLS, ids=lambda v: str(v)[:24])
def test_our_key_with_another_companys_token_answers_404(
    api, owned, other_company_campaign, method, suffix, body
):
    _, store = owned
    suffix = suffix.format(store=store)
    before = snapshot()
    url = f"/companies/ACME/campaigns/wallet/{other_company_campaign.wallet_id}/{suffix}"
    response = api.request(method, url, body, HTTP_IDEMPOTENCY_KEY="ours")
    assert response.status_code == 404, response.content
    assert snapshot() == before
