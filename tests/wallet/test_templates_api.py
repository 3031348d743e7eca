"""The platform's pass templates (reference OpenAPI): `passbook_template` is the design the
.pkpass is built from, `wallet_template` the design of the Google object; a passbook
template change reaches every installed Apple pass; bad input is a 400 errors body."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import jwt
import pytest

from tests.conftest import error_codes, errors_of
from wallet.google import service_account
from wallet.models import WalletPush, WalletTemplate
from wallet.services.installs import device_register

pytestmark = pytest.mark.django_db

PASSBOOK = {
    "passbook_template": {
        "organization_name": "Acme Co",
        "pass_description": "Rewards card of {{first_name}}",
        "logo_text": "Acme Rewards",
        "sharing_prohibited": True,
        "app_id": "id123456",
        "colors": {"background": "#ff0000", "foreground": "#fff", "label": "#cccccc"},
        "barcode": {
            "type": "PKBarcodeFormatPDF417",
            "code": "{{ code }}",
            "description": "Scan {{first_name}}",
        },
        "images": {
            "logo": {"url": "https://cdn.example.com/logo.png"},
            "icon": {"url": "https://cdn.example.com/icon.png"},
        },
        "fields": {
            "header": [
                {"label": "Points", "value": "{{loyalty_balance}}", "change_message": "Now %@"}
            ],
            "primary": [{"label": "Member", "value": "{{ first_name }}"}],
            "back": [{"label": "Terms", "value": "Void where prohibited"}],
        },
        "personalization_options": {
            "description": "Join",
            "api": {"base_url": "https://crm.example.com", "username": "u", "password": "secret"},
        },
    }
}
GOOGLE = {
    "wallet_template": {
        "title": "Acme Rewards",
        "issuer": "Acme Co",
        "background_color": "#1a73e8",
        "logo": {"url": "https://cdn.example.com/logo.png"},
        "hero_image": {"url": "https://cdn.example.com/hero.png"},
        "barcode": {"type": "qrCode", "value": "{{code}}", "alternate_text": "{{code}}"},
        "loyalty_points": {"label": "Points", "balance": "{{loyalty_balance}}"},
        "text_area": [{"header": "Hello", "body": "Hi {{first_name}}"}],
        "links": [{"description": "Site", "uri": "https://acme.example.com"}],
    }
}


def path(campaign, suffix: str) -> str:
    return f"/companies/{campaign.company.key}/campaigns/wallet/{campaign.wallet_id}/{suffix}"


def pass_document(client, campaign, item) -> dict:
    response = client.get(f"/c/{campaign.wallet_id}/{item.uuid}.pkpass")
    assert response.status_code == 200
    return json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("pass.json"))


def test_post_creates_the_passbook_template_and_get_reads_it(api, campaign):
    created = api.post(path(campaign, "passbook_template"), PASSBOOK)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["pass_description"] == "Rewards card of {{first_name}}"
    assert body["active"] is True and body["id"]
    assert created["Location"].endswith(path(campaign, "passbook_template"))
    read = api.get(path(campaign, "passbook_template"))
    assert read.status_code == 200
    assert read.json()["colors"] == PASSBOOK["passbook_template"]["colors"]


def test_the_loyalty_backend_credentials_are_masked_and_a_masked_put_keeps_them(api, campaign):
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    shown = api.get(path(campaign, "passbook_template")).json()
    assert shown["personalization_options"]["api"]["password"] == "********"
    api.put(path(campaign, "passbook_template"), {"passbook_template": shown})
    stored = WalletTemplate.objects.get(kind="passbook").body
    assert stored["personalization_options"]["api"]["password"] == "secret"


def test_the_pkpass_is_built_from_the_passbook_template(api, client, campaign, item):
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    document = pass_document(client, campaign, item)
    assert document["backgroundColor"] == "rgb(255, 0, 0)"
    assert document["foregroundColor"] == "rgb(255, 255, 255)"
    assert document["labelColor"] == "rgb(204, 204, 204)"
    assert document["organizationName"] == "Acme Co"
    assert document["description"] == "Rewards card of Ann"
    assert document["logoText"] == "Acme Rewards"
    assert document["sharingProhibited"] is True
    assert document["associatedStoreIdentifiers"] == [123456]
    card = document["storeCard"]
    assert card["headerFields"] == [
        {"key": "header0", "label": "Points", "value": "120", "changeMessage": "Now %@"}
    ]
    assert card["primaryFields"][0]["value"] == "Ann"
    assert card["backFields"][0]["value"] == "Void where prohibited"
    assert document["barcodes"] == [
        {
            "format": "PKBarcodeFormatPDF417",
            "message": "A1",
            "messageEncoding": "iso-8859-1",
            "altText": "Scan Ann",
        }
    ]


def test_a_put_changes_what_the_phone_gets_and_pushes_to_its_devices(
    api, client, campaign, item, django_capture_on_commit_callbacks
):
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    device_register(
        item=item, device_library_identifier="phone", push_token="tok-phone", provider="apple"
    )
    item.refresh_from_db()
    before = item.update_tag
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            path(campaign, "passbook_template"),
            {"passbook_template": {"colors": {"background": "#00ff00", "foreground": "#000000",
                                              "label": "#111111"}}},
        )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["logo_text"] == "Acme Rewards"  # omitted properties stay
    item.refresh_from_db()
    assert item.update_tag > before
    assert WalletPush.objects.get().push_token == "tok-phone"
    assert pass_document(client, campaign, item)["backgroundColor"] == "rgb(0, 255, 0)"


def test_a_null_property_in_a_put_removes_it(api, client, campaign, item):
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    response = api.put(
        path(campaign, "passbook_template"), {"passbook_template": {"logo_text": None}}
    )
    assert "logo_text" not in response.json()
    assert "logoText" not in pass_document(client, campaign, item)


def test_without_a_template_the_pass_keeps_the_campaign_design(client, campaign, item):
    assert pass_document(client, campaign, item)["logoText"] == "Acme Rewards"  # DESIGN's


def test_a_second_post_answers_409_and_a_put_without_a_template_404(api, campaign):
    assert api.put(path(campaign, "passbook_template"), PASSBOOK).status_code == 404
    assert api.get(path(campaign, "wallet_template")).status_code == 404
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    again = api.post(path(campaign, "passbook_template"), PASSBOOK)
    assert again.status_code == 409
    assert error_codes(again) == [304]


def test_the_google_object_and_class_are_built_from_the_wallet_template(
    api, client, campaign, item
):
    created = api.post(path(campaign, "wallet_template"), GOOGLE)
    assert created.status_code == 201, created.content
    page = client.get(f"/c/{campaign.wallet_id}?uuid={item.uuid}").content.decode()
    token = page.split("https://pay.google.com/gp/v/save/")[1].split('"')[0]
    public = service_account().private_key.public_key()
    payload = jwt.decode(token, public, algorithms=["RS256"], audience="google")["payload"]
    google_object = payload["loyaltyObjects"][0]
    assert google_object["hexBackgroundColor"] == "#1a73e8"
    assert google_object["barcode"] == {"type": "QR_CODE", "value": "A1", "alternateText": "A1"}
    assert google_object["loyaltyPoints"]["balance"] == {"string": "120"}
    assert google_object["textModulesData"][0]["body"] == "Hi Ann"
    assert google_object["heroImage"] == {"sourceUri": {"uri": "https://cdn.example.com/hero.png"}}
    google_class = payload["loyaltyClasses"][0]
    assert google_class["id"] == google_object["classId"]
    assert google_class["programName"] == "Acme Rewards"
    assert google_class["issuerName"] == "Acme Co"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("pass_description"), "pass_description is required"),
        (lambda t: t["colors"].update(background="red"), "colors.background must be a hex colour"),
        (lambda t: t["colors"].pop("label"), "colors.label is required"),
        (lambda t: t["images"].pop("icon"), "images.icon.url is required"),
        (lambda t: t.update(colour="#ffffff"), "colour is not a template property"),
        (lambda t: t["barcode"].update(type="QR"), "barcode.type must be one of"),
        (lambda t: t["barcode"].update(code="é"), "barcode.code must be ASCII"),
        (lambda t: t["fields"]["header"][0].update(change_message="Now"), "must contain %@"),
        (lambda t: t["fields"].update(primary=[{"value": "a"}, {"value": "b"}]), "at most 1"),
        (lambda t: t.update(sharing_prohibited="yes"), "must be true or false"),
        (lambda t: t["images"]["logo"].update(url="javascript:alert(1)"), "http(s) URL"),
        (lambda t: t.update(app_id="my app"), "app_id must look like"),
    ],
)
def test_a_bad_passbook_template_answers_400_and_writes_nothing(api, campaign, change, message):
    body = copy.deepcopy(PASSBOOK)
    change(body["passbook_template"])
    response = api.post(path(campaign, "passbook_template"), body)
    assert response.status_code == 400, response.content
    assert any(message in entry["message"] for entry in errors_of(response)), response.content
    assert not WalletTemplate.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("issuer"), "issuer is required"),
        (lambda t: t["barcode"].pop("value"), "barcode.value is required"),
        (lambda t: t.update(text_area={"header": "a"}), "text_area must be a list"),
        (lambda t: t.update(strip_images=[{"image_code": "A"}, {"image_code": "A"}]), "unique"),
    ],
)
def test_a_bad_wallet_template_answers_400(api, campaign, change, message):
    body = copy.deepcopy(GOOGLE)
    change(body["wallet_template"])
    response = api.post(path(campaign, "wallet_template"), body)
    assert response.status_code == 400, response.content
    assert any(message in entry["message"] for entry in errors_of(response)), response.content


def test_a_barcode_of_type_none_needs_no_value(api, campaign):
    body = copy.deepcopy(GOOGLE)
    body["wallet_template"]["barcode"] = {"type": "None"}
    assert api.post(path(campaign, "wallet_template"), body).status_code == 201


@pytest.mark.parametrize("raw", ['["a"]', '{"passbook_template": "x"}', "{"])
def test_a_body_that_is_no_template_object_answers_400(api, campaign, raw):
    response = api.request("post", path(campaign, "passbook_template"), raw=raw)
    assert response.status_code == 400
    assert errors_of(response)


def test_the_smartlink_page_draws_the_pass_from_the_passbook_template(api, client, campaign):
    api.post(path(campaign, "passbook_template"), PASSBOOK)
    page = client.get(f"/c/{campaign.wallet_id}?uuid=u1&data[first_name]=Zoe").content.decode()
    assert "background: #ff0000" in page
    assert "Zoe" in page and "Acme Rewards" in page
    assert "https://cdn.example.com/logo.png" in page
