"""Wallet admin (SPEC 10): scoped per company; campaigns with the pass design through the
services; items searchable and editable (edits push); the person page shows passes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.factories import CompanyFactory, PersonFactory
from vibesweb.tenancy.services import api_user_create
from wallet.models import (
    DeviceRegistration,
    WalletCampaign,
    WalletItem,
    WalletLocation,
    WalletLocationSelector,
    WalletMessage,
    WalletPush,
    WalletTemplate,
)
from wallet.services.campaigns import wallet_campaign_create
from wallet.services.installs import device_register
from wallet.services.items import wallet_item_open

pytestmark = pytest.mark.django_db
CHANGELISTS = ["walletcampaign", "walletitem", "deviceregistration", "walletpush", "walletmessage"]


@pytest.fixture
def rows(company):
    other = CompanyFactory(key="OTHER", name="Other")
    made = {}
    for owner, label in ((company, "mine"), (other, "theirs")):
        campaign = wallet_campaign_create(
            company=owner, fields={"name": f"campaign-{label}", "type": "loyalty"}
        )
        item, _ = wallet_item_open(
            campaign=campaign, wallet_item_id=f"item-{label}", tokens={"first_name": label}
        )
        device_register(
            item=item, device_library_identifier=f"dev-{label}", push_token=f"tok-{label}",
            provider="apple",
        )  # fmt: skip
        WalletPush.objects.create(
            company=owner, item=item, registration=item.registrations.get(),
            push_token=f"tok-{label}", backend="database", created_at=item.created_at,
        )  # fmt: skip
        WalletMessage.objects.create(
            company=owner, campaign=campaign, header=f"header-{label}", template="t",
            recipient_count=7,
        )  # fmt: skip
        made[label] = {"campaign": campaign, "item": item}
    return made


@pytest.fixture
def marketer(company):
    api_user_create(company=company, username="marketer", password="pw", staff=True)
    client = Client()
    client.login(username="marketer", password="pw")
    return client


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_marketer_sees_only_their_companys_rows(marketer, rows, changelist):
    response = marketer.get(f"/admin/wallet/{changelist}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mine" in html
    assert "theirs" not in html


def test_another_companys_campaign_and_item_are_not_found(marketer, rows):
    theirs = rows["theirs"]
    for url in (
        f"/admin/wallet/walletcampaign/{theirs['campaign'].pk}/change/",
        f"/admin/wallet/walletitem/{theirs['item'].pk}/change/",
    ):
        assert marketer.get(url).status_code in (302, 404)


def test_message_list_shows_counts(marketer, rows):
    html = marketer.get("/admin/wallet/walletmessage/").content.decode()
    assert "header-mine" in html and ">7<" in html


def test_item_search_by_uuid_token_and_group(marketer, rows):
    WalletItem.objects.filter(uuid="item-mine").update(group_code="vip")
    for term in ("item-mine", "first_name=mine", "vip"):
        html = marketer.get("/admin/wallet/walletitem/", {"q": term}).content.decode()
        assert "item-mine" in html, term
    html = marketer.get("/admin/wallet/walletitem/", {"q": "first_name=nobody"}).content.decode()
    assert "item-mine" not in html


def design_form(company, **extra) -> dict:
    data = {
        "company": company.pk,
        "name": "Admin Card",
        "type": "loyalty",
        "background_color": "#112233",
        "foreground_color": "#ffffff",
        "label_color": "#cccccc",
        "logo_text": "Acme",
        "primary_label": "Member",
        "primary_value": "{{first_name}}",
        "barcode_format": "qr",
        "barcode_message": "{{code}}",
        "preview_tokens": "first_name=Ann",
    }
    data.update(extra)
    return data


def test_marketer_creates_a_campaign_with_its_design(marketer, company, rows):
    response = marketer.post("/admin/wallet/walletcampaign/add/", design_form(company))
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = WalletCampaign.objects.get(name="Admin Card")
    assert campaign.company == company
    assert campaign.design["primary_fields"] == [
        {"key": "primary", "label": "Member", "value": "{{first_name}}"}
    ]
    assert campaign.design["barcode"] == {"format": "qr", "message": "{{code}}"}
    assert len(campaign.wallet_id) >= 8


def test_a_bad_colour_is_a_form_error(marketer, company, rows):
    response = marketer.post(
        "/admin/wallet/walletcampaign/add/", design_form(company, background_color="blue")
    )
    assert response.status_code == 200
    assert "background_color must be a colour" in response.content.decode()
    assert not WalletCampaign.objects.filter(name="Admin Card").exists()


# The campaign page's inlines: (formset prefix, rows posted).
INLINES = ("templates", "location_selector", "locations")


def inline_rows(rows: dict[str, list[dict]] | None = None) -> dict:
    """The inline formsets' POST data: `rows` per prefix (none by default)."""
    data = {}
    for prefix in INLINES:
        posted = (rows or {}).get(prefix, [])
        data[f"{prefix}-TOTAL_FORMS"] = str(len(posted))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(posted):
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def test_the_type_cannot_be_changed_in_the_admin(marketer, rows):
    campaign = rows["mine"]["campaign"]
    data = design_form(campaign.company, type="offer", name="Renamed") | inline_rows()
    response = marketer.post(f"/admin/wallet/walletcampaign/{campaign.pk}/change/", data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.type) == ("Renamed", "loyalty")


def test_the_preview_renders_the_design_with_sample_tokens(marketer, company, rows):
    response = marketer.post(
        "/admin/wallet/walletcampaign/preview/",
        design_form(company, preview_tokens="first_name=Zelda"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Zelda" in html and "Member" in html and "#112233" in html


def test_editing_an_item_pushes_to_its_devices(marketer, rows, django_capture_on_commit_callbacks):
    item = rows["mine"]["item"]
    before = item.update_tag
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post(
            f"/admin/wallet/walletitem/{item.pk}/change/",
            {
                "group_code": "vip",
                "tokens_json": '{"first_name": "Mine2"}',
                "notification": "Hello",
                **inline_management(item),
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.tokens == {"first_name": "Mine2"}
    assert item.notification == "Hello"
    assert item.update_tag > before
    assert WalletPush.objects.filter(item=item).count() == 2


def test_bad_item_tokens_are_form_errors(marketer, rows):
    item = rows["mine"]["item"]
    response = marketer.post(
        f"/admin/wallet/walletitem/{item.pk}/change/",
        {"group_code": "", "tokens_json": '{"first_name": 5}', "notification": "",
         **inline_management(item)},
    )  # fmt: skip
    assert response.status_code == 200
    assert "must be a string" in response.content.decode()
    item.refresh_from_db()
    assert item.tokens == {"first_name": "mine"}


def inline_management(item) -> dict:
    data = {}
    for prefix, count in (
        ("registrations", DeviceRegistration.objects.filter(item=item).count()),
        ("pushes", WalletPush.objects.filter(item=item).count()),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(count),
                f"{prefix}-INITIAL_FORMS": str(count),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for index, registration in enumerate(DeviceRegistration.objects.filter(item=item)):
        data[f"registrations-{index}-id"] = str(registration.pk)
        data[f"registrations-{index}-item"] = str(item.pk)
    for index, push in enumerate(WalletPush.objects.filter(item=item)):
        data[f"pushes-{index}-id"] = str(push.pk)
        data[f"pushes-{index}-item"] = str(item.pk)
    return data


def test_the_person_page_shows_their_passes(marketer, company, rows):
    person = PersonFactory(company=company)
    WalletItem.objects.filter(uuid="item-mine").update(person=person)
    html = marketer.get(f"/admin/mobiledb/person/{person.pk}/change/").content.decode()
    assert "wallet passes" in html.lower()
    assert "item-mine" in html


def test_the_campaign_page_adds_stores_a_selector_and_a_template_that_reach_passes(
    marketer, rows, django_capture_on_commit_callbacks
):
    campaign = rows["mine"]["campaign"]
    template = {"pass_description": "Card", "logo_text": "From the admin",
                "colors": {"background": "#000000", "foreground": "#ffffff", "label": "#ffffff"},
                "images": {"logo": {"url": "https://x.example/l.png"},
                           "icon": {"url": "https://x.example/i.png"}}}  # fmt: skip
    posted = inline_rows(
        {
            "templates": [{"kind": "passbook", "active": "on", "body": json.dumps(template)}],
            "location_selector": [{"title": "Pick", "add_to_wallet_language": "en-US"}],
            "locations": [{"name": "Admin store", "latitude": "41.5", "longitude": "-87.5"}],
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post(
            f"/admin/wallet/walletcampaign/{campaign.pk}/change/",
            design_form(campaign.company) | posted,
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    store = WalletLocation.objects.get()
    assert (store.company, store.campaign, store.name) == (
        campaign.company,
        campaign,
        "Admin store",
    )
    assert WalletLocationSelector.objects.get().company == campaign.company
    assert WalletTemplate.objects.get().body["logo_text"] == "From the admin"
    assert WalletPush.objects.filter(push_token="tok-mine").exists()  # the pass was told


@pytest.mark.parametrize(
    ("prefix", "row", "message"),
    [
        ("templates", {"kind": "passbook", "body": '{"pass_description": "x"}'},
         "colors is required"),
        ("locations", {"name": "Far", "latitude": "95", "longitude": "1"}, "latitude must be"),
        ("location_selector", {"background_color": "red", "add_to_wallet_language": "en-US"},
         "a hex colour"),
    ],
)  # fmt: skip
def test_bad_inline_rows_are_form_errors(marketer, rows, prefix, row, message):
    campaign = rows["mine"]["campaign"]
    response = marketer.post(
        f"/admin/wallet/walletcampaign/{campaign.pk}/change/",
        design_form(campaign.company) | inline_rows({prefix: [row]}),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WalletLocation.objects.exists() and not WalletTemplate.objects.exists()
