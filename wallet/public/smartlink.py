"""The SmartLink (public, no auth): `/c/<wallet_id>?uuid=...&data[token]=...` creates the
item on the first visit and answers a phone page with "Add to Apple Wallet" and "Save to
Google Wallet"; the signed .pkpass download; the campaign's images."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from vibesweb.errors import DomainError

from ..design import IMAGE_NAMES, rendered_fields
from ..google import save_url
from ..links import image_url, pkpass_url, site_root, web_service_url
from ..models import WalletCampaign, WalletItem, WalletLocation, WalletLocationSelector
from ..pass_templates import PASSBOOK, passbook_card_design
from ..passkit.bundle import CONTENT_TYPE, pass_images, pkpass_build
from ..services.items import wallet_item_open
from ..services.location_selector import (
    ADD_TO_WALLET,
    selector_stores_picked,
    selector_stores_shown,
)
from ..services.locations import store_as_pass_location
from ..services.templates import template_of

logger = logging.getLogger(__name__)


def _campaign(wallet_id: str) -> WalletCampaign | None:
    return WalletCampaign.objects.select_related("company").filter(wallet_id=wallet_id).first()


def _page_error(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    context = {"title": title, "detail": detail}
    return render(request, "wallet/smartlink_error.html", context, status=status)


def smartlink_tokens(request: HttpRequest) -> dict[str, str]:
    """`data[<token>]=<value>` query parameters as {token: value}."""
    return {
        name[5:-1]: request.GET[name]
        for name in request.GET
        if name.startswith("data[") and name.endswith("]")
    }


@require_GET
def smartlink_view(request: HttpRequest, wallet_id: str) -> HttpResponse:
    campaign = _campaign(wallet_id)
    if campaign is None:
        return _page_error(request, 404, "Pass not found", "This link does not lead to a pass.")
    if campaign.expiration_date and campaign.expiration_date <= timezone.now():
        if campaign.redirect_link:
            return HttpResponseRedirect(campaign.redirect_link)
        return _page_error(request, 410, "This offer has ended", "The pass is no longer issued.")
    selector = _selector_to_show(campaign, request)
    picked: list[WalletLocation] = []
    if selector is not None:
        picked = selector_stores_picked(
            selector=selector,
            location=request.GET.get("location"),
            zipcode=request.GET.get("zipcode"),
        )
        if picked is None:
            return location_selector_page(request, campaign, selector)
    try:
        item, _created = wallet_item_open(
            campaign=campaign,
            wallet_item_id=request.GET.get("uuid"),
            tokens=smartlink_tokens(request),
            locations=[store_as_pass_location(store) for store in picked],
        )
    except DomainError as error:
        messages = [entry["message"] for entry in error.as_entries()]
        return _page_error(request, 400, "This link is not valid", "; ".join(messages))
    root = site_root(request)
    context = {
        "campaign": campaign,
        "item": item,
        "card": pass_card(campaign, item.tokens, root=root),
        "apple_url": pkpass_url(item, root),
        "google_url": save_url(item, origin=root),
    }
    return render(request, "wallet/smartlink.html", context)


def _selector_to_show(campaign: WalletCampaign, request: HttpRequest):
    """The campaign's location selector, unless this visit opens an existing pass (the
    store was picked when it was made)."""
    selector = WalletLocationSelector.objects.filter(campaign=campaign).first()
    uuid = request.GET.get("uuid")
    if selector is None or (
        uuid and WalletItem.objects.filter(campaign=campaign, uuid=uuid).exists()
    ):
        return None
    return selector


def location_selector_page(
    request: HttpRequest, campaign: WalletCampaign, selector: WalletLocationSelector
) -> HttpResponse:
    """The branded "Add to Wallet" landing page: one link per store, each this visit's
    own link with `location=<store id>` added; a zip code search when allowed."""
    stores = []
    for store in selector_stores_shown(selector):
        query = request.GET.copy()
        query.pop("zipcode", None)
        query["location"] = str(store.pk)
        stores.append({"store": store, "href": f"?{query.urlencode()}"})
    hidden = [(name, value) for name, value in request.GET.items() if name not in HIDDEN_SKIP]
    context = {
        "campaign": campaign,
        "selector": selector,
        "stores": stores,
        "hidden": hidden,
        "button": ADD_TO_WALLET[selector.add_to_wallet_language],
        "zipcode": request.GET.get("zipcode", ""),
    }
    return render(request, "wallet/location_selector.html", context)


HIDDEN_SKIP = {"zipcode", "location"}


def pass_card(campaign: WalletCampaign, tokens: dict, *, root: str) -> dict:
    """What the pass shows (the SmartLink page and the admin preview draw it alike)."""
    images = {
        name: image_url(campaign, name, root) if getattr(campaign, f"{name}_image") else None
        for name in IMAGE_NAMES
    }
    template = template_of(campaign, PASSBOOK)
    if template is not None:  # the pass is built from it (wallet.passkit.bundle)
        design = passbook_card_design(template)
        for name in ("logo", "strip"):
            images[name] = (template["images"].get(name) or {}).get("url") or images[name]
    else:
        design = campaign.design or {}
    fields = rendered_fields(design, tokens)
    return {"design": design, "fields": fields, "images": images, "name": campaign.name}


@require_GET
def pkpass_view(request: HttpRequest, wallet_id: str, wallet_item_id: str) -> HttpResponse:
    campaign = _campaign(wallet_id)
    item = (
        WalletItem.objects.filter(campaign=campaign, uuid=wallet_item_id).first()
        if campaign
        else None
    )
    if item is None:
        return _page_error(request, 404, "Pass not found", "This link does not lead to a pass.")
    item.campaign = campaign
    return pkpass_response(request, item)


def pkpass_response(request: HttpRequest, item: WalletItem) -> HttpResponse:
    bundle = pkpass_build(item, web_service_url=web_service_url(site_root(request)))
    response = HttpResponse(bundle, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{item.uuid}.pkpass"'
    response["Last-Modified"] = http_date(pass_modified_at(item).timestamp())
    return response


def pass_modified_at(item: WalletItem):
    """When the pass last changed: its item or its campaign's design."""
    return max(item.updated_at, item.campaign.updated_at)


@require_GET
def campaign_image_view(request: HttpRequest, wallet_id: str, name: str) -> HttpResponse:
    campaign = _campaign(wallet_id) if name in IMAGE_NAMES else None
    if campaign is None:
        return HttpResponse(status=404)
    data = bytes(getattr(campaign, f"{name}_image") or b"")
    if not data and name == "icon":
        data = pass_images(WalletItem(campaign=campaign))["icon.png"]
    if not data:
        return HttpResponse(status=404)
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "public, max-age=300"
    return response
