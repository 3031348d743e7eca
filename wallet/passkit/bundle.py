"""A signed Apple Wallet pass bundle (.pkpass), per Apple's "Building a Pass" and
"Signing a Pass": pass.json, images, manifest.json (each file's SHA-1) and `signature`,
a detached PKCS#7 (DER) of the manifest made with the pass certificate, carrying Apple's
WWDR intermediate."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from functools import cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from mobiledb.validation import format_platform_datetime

from ..design import BARCODE_FORMATS, FIELD_GROUPS, render_text, rendered_fields
from ..models import WalletItem
from ..pass_templates import PASSBOOK, apple_app_id, hex6
from ..services.items import item_expiration
from ..services.locations import pass_locations
from ..services.templates import template_of
from .certificates import PassCredentials, pass_credentials

CONTENT_TYPE = "application/vnd.apple.pkpass"
# The pass style Apple draws for each campaign type.
PASS_STYLES = {"offer": "coupon", "loyalty": "storeCard", "event_ticket": "eventTicket"}
_APPLE_FIELD_GROUPS = {
    "header_fields": "headerFields",
    "primary_fields": "primaryFields",
    "secondary_fields": "secondaryFields",
    "auxiliary_fields": "auxiliaryFields",
    "back_fields": "backFields",
}


def pass_json(item: WalletItem, *, web_service_url: str, credentials: PassCredentials) -> dict:
    """pass.json of `item`: its campaign's passbook template (or, without one, its design)
    filled from the item's tokens, the stores it is relevant at, its notification."""
    campaign = item.campaign
    template = template_of(campaign, PASSBOOK)
    look = _template_look(template, item) if template is not None else _design_look(item)
    style = look.pop("style")
    if item.notification:
        # A changed field with a changeMessage is what shows on the lock screen.
        style.setdefault("backFields", []).insert(
            0,
            {
                "key": "notification",
                "label": "Message",
                "value": item.notification,
                "changeMessage": "%@",
            },
        )
    document: dict = {
        "formatVersion": 1,
        "passTypeIdentifier": credentials.pass_type_id,
        "serialNumber": item.uuid,
        "teamIdentifier": credentials.team_id,
        "webServiceURL": web_service_url,
        "authenticationToken": item.authentication_token,
        **look,
        PASS_STYLES[campaign.type]: style,
    }
    locations = pass_locations(item)
    if locations:
        document["locations"] = [_apple_location(location) for location in locations]
    expiration = item_expiration(item)
    if expiration:
        document["expirationDate"] = format_platform_datetime(expiration)
    return document


def _design_look(item: WalletItem) -> dict:
    """The pass.json keys the campaign's own `design` gives (no passbook template)."""
    campaign = item.campaign
    design = campaign.design or {}
    tokens = item.tokens
    fields = rendered_fields(design, tokens)
    look: dict = {
        "organizationName": design.get("organization_name") or campaign.company.name,
        "description": campaign.description or campaign.name,
        "backgroundColor": _rgb(design.get("background_color", "#1f2937")),
        "foregroundColor": _rgb(design.get("foreground_color", "#ffffff")),
        "labelColor": _rgb(design.get("label_color", "#d1d5db")),
        "style": {
            _APPLE_FIELD_GROUPS[group]: [_apple_field(f) for f in fields[group]]
            for group in FIELD_GROUPS
            if fields[group]
        },
    }
    if design.get("logo_text"):
        look["logoText"] = render_text(design["logo_text"], tokens)
    if design.get("barcode"):
        barcode = design["barcode"]
        look["barcodes"] = [
            {
                "format": BARCODE_FORMATS[barcode["format"]],
                "message": render_text(barcode["message"], tokens),
                "messageEncoding": "iso-8859-1",
            }
        ]
    return look


_TEMPLATE_REGIONS = {
    "header": "headerFields",
    "primary": "primaryFields",
    "secondary": "secondaryFields",
    "auxiliary": "auxiliaryFields",
    "back": "backFields",
}


def _template_look(template: dict, item: WalletItem) -> dict:
    """The pass.json keys of a passbook template (reference OpenAPI
    `appleWalletTemplateBody`), its text filled from the item's tokens."""
    campaign, tokens = item.campaign, item.tokens

    def text(value: str) -> str:
        return render_text(value, tokens)

    colors = template["colors"]
    look: dict = {
        "organizationName": text(template.get("organization_name") or "") or campaign.company.name,
        "description": text(template["pass_description"]) or PASS_STYLES[campaign.type],
        "backgroundColor": _rgb(hex6(colors["background"])),
        "foregroundColor": _rgb(hex6(colors["foreground"])),
        "labelColor": _rgb(hex6(colors["label"])),
        "style": {},
    }
    for region, apple_name in _TEMPLATE_REGIONS.items():
        entries = template.get("fields", {}).get(region, [])
        if entries:
            look["style"][apple_name] = [
                _template_field(f"{region}{index}", entry, text)
                for index, entry in enumerate(entries)
            ]
    if template.get("logo_text"):
        look["logoText"] = text(template["logo_text"])
    barcode = template.get("barcode")
    if barcode and barcode.get("code"):
        entry = {
            "format": barcode.get("type", "PKBarcodeFormatQR"),
            "message": text(barcode["code"]),
            "messageEncoding": "iso-8859-1",
        }
        if barcode.get("description"):
            entry["altText"] = text(barcode["description"])
        look["barcodes"] = [entry]
    if template.get("sharing_prohibited"):
        look["sharingProhibited"] = True
    if template.get("nfc_message"):
        look["nfc"] = {"message": text(template["nfc_message"])}
    app_id = apple_app_id(template)
    if app_id:
        look["associatedStoreIdentifiers"] = [app_id]
    return look


def _template_field(key: str, entry: dict, text) -> dict:
    field = {
        "key": key,
        "label": text(entry.get("label", "")),
        "value": text(entry.get("value", "")),
    }
    if entry.get("change_message"):
        field["changeMessage"] = entry["change_message"]
    return field


def _apple_field(field: dict) -> dict:
    return {"key": field["key"], "label": field["label"], "value": field["value"]}


def _apple_location(location: dict) -> dict:
    entry = {"latitude": location["latitude"], "longitude": location["longitude"]}
    if location.get("relevant_text"):
        entry["relevantText"] = location["relevant_text"]
    return entry


def _rgb(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def pass_images(item: WalletItem) -> dict[str, bytes]:
    """The bundle's images: the campaign's PNGs, and a drawn icon when it has none
    (Apple refuses a pass without icon.png)."""
    campaign = item.campaign
    images = {}
    for name in ("icon", "logo", "strip"):
        data = bytes(getattr(campaign, f"{name}_image") or b"")
        if data:
            images[f"{name}.png"] = data
    if "icon.png" not in images:
        template = template_of(campaign, PASSBOOK)
        color = (
            hex6(template["colors"]["background"])
            if template
            else (campaign.design or {}).get("background_color", "#1f2937")
        )
        images["icon.png"] = solid_png(29, 29, color)
    return images


@cache
def solid_png(width: int, height: int, color: str) -> bytes:
    """A PNG of one colour (zlib only; no imaging library for a default icon)."""
    rgb = bytes(int(color[i : i + 2], 16) for i in (1, 3, 5))
    raw = b"".join(b"\x00" + rgb * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def manifest_sign(manifest: bytes, credentials: PassCredentials) -> bytes:
    """The detached PKCS#7 signature (DER) of manifest.json, with the WWDR intermediate."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(credentials.certificate, credentials.private_key, hashes.SHA256())
        .add_certificate(credentials.wwdr)
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


def pkpass_build(item: WalletItem, *, web_service_url: str) -> bytes:
    """The signed .pkpass (a zip) of `item`."""
    credentials = pass_credentials()
    files = {
        "pass.json": json.dumps(
            pass_json(item, web_service_url=web_service_url, credentials=credentials),
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode(),
        **pass_images(item),
    }
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in files.items()},  # noqa: S324
        separators=(",", ":"),
    ).encode()
    files["manifest.json"] = manifest
    files["signature"] = manifest_sign(manifest, credentials)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()
