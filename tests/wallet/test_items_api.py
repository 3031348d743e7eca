"""Wallet items API (SPEC 10): list with filters and paging, get, PUT merge rules."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of
from wallet.models import WalletItem, WalletPush
from wallet.services.items import wallet_item_open

pytestmark = pytest.mark.django_db


def items_path(campaign) -> str:
    return f"/companies/ACME/campaigns/wallet/{campaign.wallet_id}/items"


def add(campaign, uuid, **tokens):
    item, _ = wallet_item_open(campaign=campaign, wallet_item_id=uuid, tokens=tokens)
    return item


def uuids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [i["wallet_item_id"] for i in response.json()]


def test_get_one_item_in_the_platform_shape(api, campaign, item):
    response = api.get(f"{items_path(campaign)}/item-1")
    assert response.status_code == 200
    body = response.json()
    assert body["wallet_item_id"] == "item-1"
    assert body["campaign_ref"] == {
        "id": campaign.wallet_id,
        "type": "loyalty",
        "url": campaign.url,
    }
    assert body["active"] is False
    assert body["tokens"]["first_name"] == "Ann"
    assert body["url"] == f"{campaign.url}/items/item-1"
    assert set(body) >= {"group_code", "provider", "locations", "passbook", "google_wallet"}


def test_list_is_newest_first_with_and_without_slash(api, campaign):
    for n in range(3):
        add(campaign, f"u{n}")
    assert uuids(api.get(items_path(campaign))) == ["u2", "u1", "u0"]
    assert uuids(api.get(items_path(campaign) + "/")) == ["u2", "u1", "u0"]


def test_list_filters_by_group_code_provider_token_and_expiration(api, campaign):
    add(campaign, "a", group_code="vip", first_name="Ann", expiration_date="2031-01-02")
    add(campaign, "b", group_code="std", first_name="Bob")
    WalletItem.objects.filter(uuid="b").update(provider="google_wallet")
    path = items_path(campaign)
    assert uuids(api.get(path + "?group_code=vip")) == ["a"]
    assert uuids(api.get(path + "?first_name=Bob")) == ["b"]
    assert uuids(api.get(path + "?provider=google_wallet")) == ["b"]
    assert uuids(api.get(path + "?expiration_date=2031-01-02")) == ["a"]
    assert uuids(api.get(path + "?expiration_date=2031-01-03")) == []


def test_items_without_their_own_date_expire_with_the_campaign(api, campaign):
    campaign.expiration_date = "2032-05-06T10:00:00Z"
    campaign.save()
    add(campaign, "a")
    assert uuids(api.get(items_path(campaign) + "?expiration_date=2032-05-06")) == ["a"]


@pytest.mark.parametrize(
    "query", ["expiration_date=tomorrow", "provider=nokia", "bad-name=1", "1st=x"]
)
def test_bad_list_filters_are_400(api, campaign, query):
    response = api.get(f"{items_path(campaign)}?{query}")
    assert response.status_code == 400
    assert errors_of(response)[0]["code"] == 203


def test_page_size_and_next_page_token(api, campaign):
    for n in range(5):
        add(campaign, f"u{n}")
    first = api.get(items_path(campaign) + "?page_size=2")
    assert uuids(first) == ["u4", "u3"]
    token = first["X-Next-Page-Token"]
    assert 'rel="next"' in first["Link"]
    second = api.get(f"{items_path(campaign)}?page_size=2&page_token={token}")
    assert uuids(second) == ["u2", "u1"]
    third = api.get(f"{items_path(campaign)}?page_size=2&page_token={second['X-Next-Page-Token']}")
    assert uuids(third) == ["u0"]
    assert "X-Next-Page-Token" not in third


def test_page_size_is_capped_at_1000(api, campaign):
    WalletItem.objects.bulk_create(
        WalletItem(company=campaign.company, campaign=campaign, uuid=f"u{n}") for n in range(1001)
    )
    assert len(uuids(api.get(items_path(campaign) + "?page_size=5000"))) == 1000


def test_put_merges_tokens_removes_nulls_and_keeps_omitted(api, campaign, item):
    response = api.put(
        f"{items_path(campaign)}/item-1",
        {
            "tokens": {"first_name": "Anna", "tier": None, "city": "Oslo"},
            "wallet_item_id": "ignored",
            "active": True,
            "provider": "ignored",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tokens"] == {
        "first_name": "Anna",
        "loyalty_balance": "120",
        "code": "A1",
        "city": "Oslo",
    }
    assert body["wallet_item_id"] == "item-1"
    assert body["active"] is False


def test_put_sets_locations_notification_and_google_message(api, campaign, item):
    response = api.put(
        f"{items_path(campaign)}/item-1",
        {
            "locations": [{"latitude": 59.9, "longitude": 10.7, "relevant_text": "Near you"}],
            "passbook": {"notification": "Double points today"},
            "google_wallet": {"messages": {"header": "Hi", "body": "Double points"}},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["locations"][0]["relevant_text"] == "Near you"
    assert body["passbook"] == {"notification": "Double points today"}
    assert body["google_wallet"] == {"messages": [{"header": "Hi", "body": "Double points"}]}


def test_put_bumps_the_update_tag(api, campaign, item):
    before = item.update_tag
    api.put(f"{items_path(campaign)}/item-1", {"tokens": {"first_name": "Zoe"}})
    item.refresh_from_db()
    assert item.update_tag > before


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"tokens": {"first_name": 5}}, "must be a string"),
        ({"tokens": {"first_name": ["a"]}}, "must be a string"),
        ({"tokens": {"first name": "x"}}, "not a valid token name"),
        ({"tokens": {"1abc": "x"}}, "not a valid token name"),
        ({"tokens": "first_name=x"}, "tokens must be an object"),
        ({"locations": [{"latitude": 91, "longitude": 0}]}, "latitude"),
        ({"locations": [{"latitude": 0, "longitude": -181}]}, "longitude"),
        ({"locations": [{"latitude": "1", "longitude": 0}]}, "latitude"),
        ({"passbook": {"notification": ""}}, "notification must not be empty"),
        ({"passbook": {"notification": "   "}}, "notification must not be empty"),
        ({"passbook": {"notification": "x" * 501}}, "longer than"),
        ({"google_wallet": {"messages": {"header": "h", "body": ""}}}, "body must not be empty"),
    ],
)
def test_bad_item_input_is_400_and_nothing_is_written(api, campaign, item, body, fragment):
    body = {**body, "group_code": "should-not-stick"}
    response = api.put(f"{items_path(campaign)}/item-1", body)
    assert response.status_code == 400, response.content
    assert any(fragment in e["message"] for e in errors_of(response)), errors_of(response)
    item.refresh_from_db()
    assert item.group_code == ""
    assert item.tokens["first_name"] == "Ann"


def test_body_must_be_an_object(api, campaign, item):
    response = api.put(f"{items_path(campaign)}/item-1", raw="[1]")
    assert response.status_code == 400


def test_unknown_or_other_companys_item_is_404(api, campaign, item, other_company_campaign):
    add(other_company_campaign, "theirs")
    assert api.get(f"{items_path(campaign)}/nope").status_code == 404
    assert api.put(f"{items_path(campaign)}/nope", {"tokens": {}}).status_code == 404
    theirs = f"/companies/ACME/campaigns/wallet/{other_company_campaign.wallet_id}/items"
    assert api.get(f"{theirs}/theirs").status_code == 404
    assert api.get(theirs).status_code == 404
    assert api.get("/companies/ACME/campaigns/wallet/nope/items").status_code == 404


def test_no_push_is_recorded_for_an_item_on_no_device(api, campaign, item):
    api.put(f"{items_path(campaign)}/item-1", {"tokens": {"first_name": "Zoe"}})
    assert not WalletPush.objects.exists()
