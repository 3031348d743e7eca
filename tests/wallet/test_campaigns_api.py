"""Wallet campaigns API (SPEC 10): list, get, create, update; type immutable."""

from __future__ import annotations

import base64

import pytest
from django.core.management import call_command

from tests.conftest import errors_of
from wallet.design import PNG_SIGNATURE
from wallet.models import WalletCampaign

from .conftest import DESIGN

pytestmark = pytest.mark.django_db
BASE = "/companies/ACME/campaigns/wallet"


def create(api, **fields):
    body = {"name": "Spring Sale", "type": "offer", **fields}
    return api.post(BASE, {"campaign": body})


def test_create_answers_201_with_the_campaign_envelope(api):
    response = create(
        api,
        description="20% off",
        expiration_date="2030-06-30T23:59:59Z",
        redirect_link="https://example.com/expired",
        design=DESIGN,
    )
    assert response.status_code == 201, response.content
    campaign = response.json()["campaign"]
    wallet_id = campaign["wallet_id"]
    assert campaign["name"] == "Spring Sale"
    assert campaign["type"] == "offer"
    assert campaign["description"] == "20% off"
    assert campaign["expiration_date"] == "2030-06-30T23:59:59Z"
    assert campaign["redirect_link"] == "https://example.com/expired"
    assert campaign["url"] == f"/companies/ACME/campaigns/wallet/{wallet_id}"
    assert campaign["smartlink_url"] == f"http://testserver/c/{wallet_id}"
    assert campaign["design"]["background_color"] == "#1e3a8a"  # normalized
    assert campaign["design"]["primary_fields"][0]["value"] == "{{first_name}}"
    assert set(campaign) >= {"created_at", "updated_at"}


def test_wallet_ids_are_short_random_and_url_safe(api):
    ids = {create(api).json()["campaign"]["wallet_id"] for _ in range(5)}
    assert len(ids) == 5
    for wallet_id in ids:
        assert len(wallet_id) <= 16
        assert all(c.isalnum() or c in "-_" for c in wallet_id)


def test_type_is_accepted_in_any_case(api):
    response = create(api, type="Event_Ticket")
    assert response.status_code == 201
    assert response.json()["campaign"]["type"] == "event_ticket"


def test_smartlink_url_uses_site_url_when_set(api, settings):
    settings.SITE_URL = "https://wallet.example.com/"
    campaign = create(api).json()["campaign"]
    assert campaign["smartlink_url"] == f"https://wallet.example.com/c/{campaign['wallet_id']}"


def test_list_is_most_recently_updated_first(api):
    first = create(api, name="First").json()["campaign"]["wallet_id"]
    create(api, name="Second")
    api.put(f"{BASE}/{first}", {"campaign": {"description": "touched"}})
    for path in (BASE, BASE + "/"):
        response = api.get(path)
        assert response.status_code == 200
        assert [c["name"] for c in response.json()] == ["First", "Second"]


def test_get_one_with_and_without_trailing_slash(api, campaign):
    for path in (f"{BASE}/{campaign.wallet_id}", f"{BASE}/{campaign.wallet_id}/"):
        response = api.get(path)
        assert response.status_code == 200
        assert response.json()["wallet_id"] == campaign.wallet_id


def test_put_updates_given_fields_and_keeps_the_others(api, campaign):
    response = api.put(
        f"{BASE}/{campaign.wallet_id}",
        {"campaign": {"name": "Rewards+", "type": "LOYALTY", "design": {"logo_text": "New"}}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Rewards+"
    assert body["type"] == "loyalty"
    assert body["design"]["logo_text"] == "New"


def test_type_change_is_refused_and_nothing_changes(api, campaign):
    response = api.put(
        f"{BASE}/{campaign.wallet_id}", {"campaign": {"name": "Changed", "type": "offer"}}
    )
    assert response.status_code == 422
    assert "type" in errors_of(response)[0]["message"]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.type) == ("Rewards", "loyalty")


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"type": "coupon"}, "type must be one of"),
        ({"type": None}, "type is required"),
        ({"name": ""}, "name is required"),
        ({"expiration_date": "next week"}, "expiration_date"),
        ({"redirect_link": "javascript:alert(1)"}, "redirect_link"),
        ({"design": {"background_color": "blue"}}, "background_color"),
        ({"design": {"primary_fields": [{"key": "a"}, {"key": "b"}]}}, "primary_fields"),
        ({"design": {"sparkles": True}}, "sparkles"),
        ({"design": {"barcode": {"format": "qr"}}}, "barcode"),
        ({"images": {"logo": "not base64!"}}, "images.logo"),
        ({"images": {"logo": base64.b64encode(b"GIF89a").decode()}}, "PNG"),
    ],
)
def test_bad_campaign_input_is_400_and_writes_nothing(api, fields, fragment):
    response = create(api, **fields)
    assert response.status_code == 400, response.content
    assert any(fragment in e["message"] for e in errors_of(response)), errors_of(response)
    assert not WalletCampaign.objects.exists()


def test_images_are_stored_and_served(api, client):
    png = PNG_SIGNATURE + b"rest-of-a-png"
    response = create(api, images={"logo": base64.b64encode(png).decode()})
    campaign = response.json()["campaign"]
    assert campaign["images"]["strip"] is None
    logo = client.get(campaign["images"]["logo"].removeprefix("http://testserver"))
    assert logo.status_code == 200
    assert logo.content == png
    assert logo["Content-Type"] == "image/png"


def test_unknown_and_other_companys_campaigns_are_404(api, other_company_campaign):
    for wallet_id in ("nope", other_company_campaign.wallet_id):
        response = api.get(f"{BASE}/{wallet_id}")
        assert response.status_code == 404
        assert errors_of(response)[0]["code"] == 120
        assert api.put(f"{BASE}/{wallet_id}", {"campaign": {"name": "x"}}).status_code == 404


def test_other_company_does_not_list_ours(other_api, campaign):
    response = other_api.get("/companies/OTHER/campaigns/wallet")
    assert [c["name"] for c in response.json()] == ["Theirs"]
    assert other_api.get(f"{BASE}").status_code == 404


def test_create_wallet_campaign_command_prints_the_wallet_id_last(company, capsys):
    call_command("create_wallet_campaign", "ACME", "Summer", "--type", "OFFER")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    campaign = WalletCampaign.objects.get(wallet_id=last)
    assert (campaign.name, campaign.type, campaign.company) == ("Summer", "offer", company)


def test_an_unknown_query_parameter_is_400(api, campaign):
    for path in (BASE, f"{BASE}/{campaign.wallet_id}", f"{BASE}/{campaign.wallet_id}/messages"):
        response = api.get(f"{path}?colour=red")
        assert response.status_code == 400, path
        assert errors_of(response)[0]["code"] == 203
