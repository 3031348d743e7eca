"""The location selector (reference OpenAPI "Wallet Location Selector"): the branded
"Add to Wallet" page the SmartLink shows first, where the customer picks a store that
the pass then carries; its API with a 400 for bad input."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.conftest import errors_of
from wallet.models import WalletItem, WalletLocationSelector

pytestmark = pytest.mark.django_db

SELECTOR = {
    "location_selector": {
        "image": {"url": "https://cdn.example.com/banner.png"},
        "header": {"title": "Pick your store", "tagline": "Tap to save"},
        "colors": {"background": "#FFFFFF", "foreground": "#000000", "label": "#888888"},
        "fontsize": 16,
        "include_zipcode": True,
        "add_to_wallet_language": "fr-FR",
    }
}


def path(campaign, suffix: str) -> str:
    return f"/companies/{campaign.company.key}/campaigns/wallet/{campaign.wallet_id}/{suffix}"


@pytest.fixture
def stores(api, campaign) -> list[dict]:
    return api.post(
        path(campaign, "locations/bulk"),
        {
            "locations": [
                {"name": "Downtown", "zip": "60601", "latitude": "41.88", "longitude": "-87.63",
                 "notification_message": "Downtown is near"},
                {"name": "Uptown", "zip": "60640", "latitude": "41.97", "longitude": "-87.66"},
                {"name": "Loop", "zip": "60601", "latitude": "41.87", "longitude": "-87.62"},
            ]
        },
        HTTP_IDEMPOTENCY_KEY="stores",
    ).json()  # fmt: skip


@pytest.fixture
def selector(api, campaign):
    response = api.post(path(campaign, "location_selector"), SELECTOR)
    assert response.status_code == 201, response.content
    return response.json()


def pass_locations(client, campaign, uuid: str) -> list[dict]:
    response = client.get(f"/c/{campaign.wallet_id}/{uuid}.pkpass")
    return json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("pass.json"))["locations"]


def test_post_get_put_delete(api, campaign, selector):
    assert selector["header"] == {"title": "Pick your store", "tagline": "Tap to save"}
    assert selector["colors"]["background"] == "#ffffff"
    assert selector["url"].endswith(f"/c/{campaign.wallet_id}")
    assert api.get(path(campaign, "location_selector")).json()["token"] == selector["token"]
    updated = api.put(path(campaign, "location_selector"),
                      {"location_selector": {"header": {"title": "Choose"}}})  # fmt: skip
    assert updated.status_code == 200
    assert updated.json()["header"]["title"] == "Choose"
    assert updated.json()["add_to_wallet_language"] == "fr-FR"  # omitted values stay
    assert api.post(path(campaign, "location_selector"), SELECTOR).status_code == 409
    assert api.delete(path(campaign, "location_selector")).status_code == 204
    assert api.get(path(campaign, "location_selector")).status_code == 404
    assert api.delete(path(campaign, "location_selector")).status_code == 404
    assert api.put(path(campaign, "location_selector"), SELECTOR).status_code == 404


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"colors": {"background": "white"}}, "colors.background must be a hex colour"),
        ({"add_to_wallet_language": "de-DE"}, "add_to_wallet_language must be one of"),
        ({"fontsize": "16px"}, "fontsize must be a whole number"),
        ({"include_zipcode": "yes"}, "include_zipcode must be true or false"),
        ({"image": {"url": "ftp://x"}}, "image.url must be an http(s) URL"),
        ({"header": "Hi"}, "header must be"),
        ({"footer": {}}, "footer is not a selector property"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(api, campaign, selector, message):
    response = api.post(path(campaign, "location_selector"), {"location_selector": selector})
    assert response.status_code == 400, response.content
    assert any(message in entry["message"] for entry in errors_of(response)), response.content
    assert not WalletLocationSelector.objects.exists()


def test_the_smartlink_shows_the_selector_first_and_makes_no_pass(
    client, campaign, stores, selector
):
    page = client.get(f"/c/{campaign.wallet_id}?uuid=u1&data[first_name]=Ann")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pick your store" in html and "Downtown" in html and "Uptown" in html
    assert "Ajouter au portefeuille" in html  # the selector's language
    assert f"location={stores[1]['id']}" in html
    assert "uuid=u1" in html and "data%5Bfirst_name%5D=Ann" in html  # the visit's own link
    assert not WalletItem.objects.exists()


def test_the_store_picked_is_the_passs_relevant_location(client, campaign, stores, selector):
    url = f"/c/{campaign.wallet_id}?uuid=u1&data[first_name]=Ann&location={stores[0]['id']}"
    page = client.get(url)
    assert "Add to Apple Wallet" in page.content.decode()
    assert pass_locations(client, campaign, "u1") == [
        {"latitude": 41.88, "longitude": -87.63, "relevantText": "Downtown is near"}
    ]
    # A later visit opens the pass made, without asking again.
    assert "Add to Apple Wallet" in client.get(f"/c/{campaign.wallet_id}?uuid=u1").content.decode()


def test_a_zipcode_picks_that_zips_stores_when_the_selector_allows_it(
    api, client, campaign, stores, selector
):
    client.get(f"/c/{campaign.wallet_id}?uuid=u1&zipcode=60601")
    assert [loc["latitude"] for loc in pass_locations(client, campaign, "u1")] == [41.88, 41.87]
    api.put(path(campaign, "location_selector"),
            {"location_selector": {"include_zipcode": False}})  # fmt: skip
    page = client.get(f"/c/{campaign.wallet_id}?uuid=u2&zipcode=60601")
    assert "Pick your store" in page.content.decode()
    assert not WalletItem.objects.filter(uuid="u2").exists()


def test_another_campaigns_store_cannot_be_picked(api, client, company, campaign, selector):
    other = api.post(
        f"/companies/{company.key}/campaigns/wallet",
        {"campaign": {"name": "Other", "type": "offer"}},
    ).json()["campaign"]["wallet_id"]
    theirs = api.post(
        f"/companies/{company.key}/campaigns/wallet/{other}/locations/bulk",
        {"locations": [{"name": "Theirs", "latitude": "1", "longitude": "1"}]},
        HTTP_IDEMPOTENCY_KEY="k",
    ).json()[0]["id"]
    page = client.get(f"/c/{campaign.wallet_id}?uuid=u1&location={theirs}")
    assert "Pick your store" in page.content.decode()
    assert not WalletItem.objects.exists()


def test_without_a_selector_the_smartlink_goes_straight_to_the_pass(client, campaign, stores):
    page = client.get(f"/c/{campaign.wallet_id}?uuid=u1")
    assert "Add to Apple Wallet" in page.content.decode()
    assert len(pass_locations(client, campaign, "u1")) == 3
