"""Wallet test set-up: dev signing material in a per-session folder, campaign helpers."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import CompanyFactory, MembershipFactory, UserFactory
from wallet.google import service_account
from wallet.passkit.certificates import pass_credentials
from wallet.services.campaigns import wallet_campaign_create
from wallet.services.items import wallet_item_open

from ..conftest import APIClient

DESIGN = {
    "background_color": "#1E3A8A",
    "foreground_color": "#ffffff",
    "label_color": "#bfdbfe",
    "logo_text": "Acme Rewards",
    "header_fields": [{"key": "points", "label": "Points", "value": "{{loyalty_balance}}"}],
    "primary_fields": [{"key": "name", "label": "Member", "value": "{{first_name}}"}],
    "secondary_fields": [{"key": "tier", "label": "Tier", "value": "{{tier}}"}],
    "barcode": {"format": "qr", "message": "{{code}}"},
}


@pytest.fixture(scope="session")
def wallet_dev_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("wallet-dev-keys")


@pytest.fixture(autouse=True)
def _wallet_settings(wallet_dev_dir, settings):
    settings.WALLET_DEV_CERT_DIR = str(wallet_dev_dir)
    settings.SITE_URL = ""
    pass_credentials.cache_clear()
    service_account.cache_clear()
    yield
    pass_credentials.cache_clear()
    service_account.cache_clear()


@pytest.fixture
def campaign(company):
    return wallet_campaign_create(
        company=company, fields={"name": "Rewards", "type": "loyalty", "design": DESIGN}
    )


@pytest.fixture
def item(campaign):
    item, _ = wallet_item_open(
        campaign=campaign,
        wallet_item_id="item-1",
        tokens={"first_name": "Ann", "loyalty_balance": "120", "tier": "Gold", "code": "A1"},
    )
    return item


@pytest.fixture
def other_company_campaign(db):
    other = CompanyFactory(key="OTHER")
    MembershipFactory(company=other, user=UserFactory(username="other-api"))
    return wallet_campaign_create(company=other, fields={"name": "Theirs", "type": "offer"})


@pytest.fixture
def other_api(other_company_campaign) -> APIClient:
    return APIClient("other-api")


__all__ = ["override_settings"]
