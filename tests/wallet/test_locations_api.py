"""A campaign's store locations (reference OpenAPI "Wallet Store Locations"): bulk add under
an Idempotency-Key, list with page/filters, delete one or all; the pass carries at most
ten of them as Apple's relevant locations, and a change reaches installed passes."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.conftest import error_codes, errors_of
from wallet.models import WalletLocation, WalletPush
from wallet.services.installs import device_register
from wallet.services.items import wallet_item_update

pytestmark = pytest.mark.django_db


def path(campaign, suffix: str) -> str:
    return f"/companies/{campaign.company.key}/campaigns/wallet/{campaign.wallet_id}/{suffix}"


def store(number: int, **extra) -> dict:
    return {
        "location_id": f"store-{number:03}",
        "name": f"Store {number}",
        "zip": "60601" if number % 2 else "55408",
        "latitude": f"41.{number:04}",
        "longitude": -87.5 - number / 100,
        "notification_message": f"Stop by store {number}",
        **extra,
    }


def bulk(api, campaign, stores: list[dict], key: str = "key-1"):
    return api.post(path(campaign, "locations/bulk"), {"locations": stores},
                    HTTP_IDEMPOTENCY_KEY=key)  # fmt: skip


def pass_document(client, campaign, item) -> dict:
    response = client.get(f"/c/{campaign.wallet_id}/{item.uuid}.pkpass")
    return json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("pass.json"))


def test_bulk_adds_the_stores_and_the_list_answers_them_in_order(api, campaign):
    added = bulk(api, campaign, [store(1), store(2)])
    assert added.status_code == 201, added.content
    assert [entry["name"] for entry in added.json()] == ["Store 1", "Store 2"]
    listed = api.get(path(campaign, "locations"))
    assert listed.status_code == 200
    first = listed.json()[0]
    assert first == {
        "id": added.json()[0]["id"],
        "location_id": "store-001",
        "name": "Store 1",
        "address": None,
        "address_2": None,
        "city": None,
        "state": None,
        "zip": "60601",
        "phone_number": None,
        "store_hours": None,
        "latitude": "41.0001",
        "longitude": "-87.51",
        "notification_message": "Stop by store 1",
    }
    assert listed["X-Total-Count"] == "2"


def test_a_retry_with_the_same_key_answers_the_first_result_and_adds_nothing(api, campaign):
    first = bulk(api, campaign, [store(1)])
    again = bulk(api, campaign, [store(1)])
    assert again.status_code == 201
    assert again.json() == first.json()
    assert WalletLocation.objects.count() == 1


def test_the_same_key_with_another_body_answers_422(api, campaign):
    bulk(api, campaign, [store(1)])
    response = bulk(api, campaign, [store(2)])
    assert response.status_code == 422
    assert WalletLocation.objects.count() == 1


def test_the_idempotency_key_is_required(api, campaign):
    response = api.post(path(campaign, "locations/bulk"), {"locations": [store(1)]})
    assert response.status_code == 400
    assert "Idempotency-Key" in errors_of(response)[0]["message"]
    assert not WalletLocation.objects.exists()


@pytest.mark.parametrize(
    ("locations", "message"),
    [
        ([store(2), store(1, latitude="91")], "latitude must be a number from -90 to 90"),
        ([store(2), store(1, longitude="east")], "longitude must be a number from -180 to 180"),
        ([store(2), {"name": "No place"}], "latitude is required"),
        ([store(2), store(1, zip=60601)], "zip must be text"),
        ([store(2), store(1, opening="9-5")], "opening is not a location property"),
        ([], "locations must be a list of 1 to 1000"),
        ([store(2)] * 1001, "at most 1000 locations"),
        ("store", "locations must be a list"),
    ],
)
def test_bad_stores_answer_400_and_add_nothing(api, campaign, locations, message):
    response = bulk(api, campaign, locations)  # a good store beside a bad one: none added
    assert response.status_code == 400, response.content
    assert any(message in entry["message"] for entry in errors_of(response)), response.content
    assert not WalletLocation.objects.exists()


def test_the_list_pages_and_filters(api, campaign):
    bulk(api, campaign, [store(n) for n in range(1, 6)])
    page = api.get(path(campaign, "locations") + "?page=2&page_size=2").json()
    assert [entry["name"] for entry in page] == ["Store 3", "Store 4"]
    odd = api.get(path(campaign, "locations") + "?zip=60601").json()
    assert [entry["name"] for entry in odd] == ["Store 1", "Store 3", "Store 5"]
    exact = api.get(path(campaign, "locations") + "?latitude=41.0002&longitude=-87.52").json()
    assert [entry["name"] for entry in exact] == ["Store 2"]


@pytest.mark.parametrize(
    "query", ["page=0", "page_size=1001", "page=two", "latitude=north", "radius=5"]
)
def test_a_bad_list_query_answers_400(api, campaign, query):
    response = api.get(path(campaign, "locations") + "?" + query)
    assert response.status_code == 400
    assert error_codes(response) == [203]


def test_delete_one_store_then_it_is_gone(api, campaign):
    ids = [entry["id"] for entry in bulk(api, campaign, [store(1), store(2)]).json()]
    assert api.delete(path(campaign, f"locations/{ids[0]}")).status_code == 204
    assert api.delete(path(campaign, f"locations/{ids[0]}")).status_code == 404
    assert api.delete(path(campaign, "locations/abc")).status_code == 404
    assert [entry["id"] for entry in api.get(path(campaign, "locations")).json()] == [ids[1]]


def test_delete_all_removes_a_zip_or_everything(api, campaign):
    bulk(api, campaign, [store(n) for n in range(1, 6)])
    response = api.delete(path(campaign, "locations/delete_all") + "?zip=60601")
    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert api.delete(path(campaign, "locations/delete_all")).json() == {"deleted": 2}
    assert not WalletLocation.objects.exists()


def test_another_campaigns_store_cannot_be_deleted_through_this_one(api, company, campaign):
    other = api.post(
        f"/companies/{company.key}/campaigns/wallet",
        {"campaign": {"name": "Other", "type": "offer"}},
    ).json()["campaign"]["wallet_id"]
    theirs = api.post(
        f"/companies/{company.key}/campaigns/wallet/{other}/locations/bulk",
        {"locations": [store(1)]},
        HTTP_IDEMPOTENCY_KEY="k",
    ).json()[0]["id"]
    assert api.delete(path(campaign, f"locations/{theirs}")).status_code == 404
    assert WalletLocation.objects.filter(pk=theirs).exists()


def test_the_pass_carries_the_first_ten_stores_as_relevant_locations(api, client, campaign, item):
    bulk(api, campaign, [store(n) for n in range(1, 13)])
    locations = pass_document(client, campaign, item)["locations"]
    assert len(locations) == 10
    assert locations[0] == {"latitude": 41.0001, "longitude": -87.51,
                            "relevantText": "Stop by store 1"}  # fmt: skip
    assert locations[-1]["relevantText"] == "Stop by store 10"


def test_an_items_own_locations_win_over_the_campaigns_stores(api, client, campaign, item):
    bulk(api, campaign, [store(1)])
    wallet_item_update(item=item, fields={"locations": [{"latitude": 1.5, "longitude": 2.5}]})
    item.refresh_from_db()
    assert pass_document(client, campaign, item)["locations"] == [
        {"latitude": 1.5, "longitude": 2.5}
    ]


def test_adding_and_deleting_stores_reaches_installed_passes(
    api, campaign, item, django_capture_on_commit_callbacks
):
    device_register(
        item=item, device_library_identifier="phone", push_token="tok", provider="apple"
    )
    item.refresh_from_db()
    before = item.update_tag
    with django_capture_on_commit_callbacks(execute=True):
        bulk(api, campaign, [store(1)])
    item.refresh_from_db()
    assert item.update_tag > before
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(path(campaign, "locations/delete_all"))
    assert WalletPush.objects.count() == 2
