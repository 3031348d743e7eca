"""The public SmartLink (SPEC 10): creates the item on the first visit, answers a phone
page with both wallet buttons, redirects when expired, 404 page when unknown."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from tests.factories import PersonFactory
from wallet.google import service_account
from wallet.models import WalletItem

pytestmark = pytest.mark.django_db


def test_first_visit_creates_the_item_with_its_tokens(client, campaign):
    response = client.get(
        f"/c/{campaign.wallet_id}?uuid=abc-123&data[first_name]=Ann&data[loyalty_balance]=42"
    )
    assert response.status_code == 200
    item = WalletItem.objects.get(campaign=campaign)
    assert item.uuid == "abc-123"
    assert item.tokens == {"first_name": "Ann", "loyalty_balance": "42"}
    page = response.content.decode()
    assert "Add to Apple Wallet" in page
    assert "Save to Google Wallet" in page
    assert f"/c/{campaign.wallet_id}/abc-123.pkpass" in page
    assert "https://pay.google.com/gp/v/save/" in page
    assert "Ann" in page  # the pass preview is personalized


def test_a_second_visit_reuses_the_item_and_never_rewrites_it(client, campaign):
    client.get(f"/c/{campaign.wallet_id}?uuid=abc&data[first_name]=Ann")
    client.get(f"/c/{campaign.wallet_id}?uuid=abc&data[first_name]=Mallory")
    assert WalletItem.objects.get().tokens == {"first_name": "Ann"}


def test_a_missing_uuid_is_generated(client, campaign):
    assert client.get(f"/c/{campaign.wallet_id}/").status_code == 200
    item = WalletItem.objects.get()
    assert len(item.uuid) == 36


def test_the_google_link_carries_an_rs256_jwt_of_the_pass_object(client, campaign, settings):
    response = client.get(f"/c/{campaign.wallet_id}?uuid=g1&data[first_name]=Ann")
    token = response.context["google_url"].removeprefix("https://pay.google.com/gp/v/save/")
    public = service_account().private_key.public_key()
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="google")
    assert claims["typ"] == "savetowallet"
    [pass_object] = claims["payload"]["loyaltyObjects"]
    assert pass_object["id"] == f"{settings.WALLET_GOOGLE_ISSUER_ID}.{campaign.wallet_id}-g1"
    assert {"id": "name", "header": "Member", "body": "Ann"} in pass_object["textModulesData"]


def test_person_named_by_the_link_is_attached(client, campaign, company):
    person = PersonFactory(company=company, external_person_id="crm-7")
    client.get(f"/c/{campaign.wallet_id}?uuid=p1&data[external_person_id]=crm-7")
    assert WalletItem.objects.get().person == person


def test_expired_campaign_redirects_to_its_redirect_link(client, campaign):
    campaign.expiration_date = timezone.now() - timedelta(minutes=1)
    campaign.redirect_link = "https://example.com/over"
    campaign.save()
    response = client.get(f"/c/{campaign.wallet_id}?uuid=x")
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/over"
    assert not WalletItem.objects.exists()


def test_expired_campaign_without_redirect_link_is_410(client, campaign):
    campaign.expiration_date = timezone.now() - timedelta(minutes=1)
    campaign.save()
    assert client.get(f"/c/{campaign.wallet_id}").status_code == 410


def test_unknown_wallet_id_is_a_404_page(client, db):
    response = client.get("/c/nope?uuid=1")
    assert response.status_code == 404
    assert b"Pass not found" in response.content


@pytest.mark.parametrize(
    "query", ["uuid=has space", "uuid=" + "x" * 65, "data[bad name]=1", "data[a]=" + "x" * 1001]
)
def test_bad_link_input_is_a_400_page_and_creates_nothing(client, campaign, query):
    response = client.get(f"/c/{campaign.wallet_id}?{query}")
    assert response.status_code == 400
    assert not WalletItem.objects.exists()
