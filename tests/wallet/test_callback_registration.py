"""Wallet callbacks are registered scoped by `{campaign_token}` (SPEC 10); a token that is
not one of the company's wallet campaigns is refused."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of

pytestmark = pytest.mark.django_db


def register(api, token, callback_type="wallet_item_install"):
    return api.post(
        "/companies/ACME/config/callbacks",
        {
            "callback_type": callback_type,
            "destination": {"url": "http://127.0.0.1:9/hook"},
            callback_type: {"campaign_token": token},
        },
    )


def test_a_campaign_token_scope_is_accepted_and_echoed(api, campaign):
    response = register(api, campaign.wallet_id, "wallet_item_remove")
    assert response.status_code == 201, response.content
    assert response.json()["wallet_item_remove"] == {"campaign_token": campaign.wallet_id}


def test_an_unknown_or_other_companys_token_is_400(api, campaign, other_company_campaign):
    for token in ("nope", other_company_campaign.wallet_id):
        response = register(api, token)
        assert response.status_code == 400
        assert "campaign_token" in errors_of(response)[0]["message"]
