"""Google Wallet: the "Save to Google Wallet" link and Google's save/delete callbacks.

The link is `https://pay.google.com/gp/v/save/<jwt>`: an RS256 JWT (PyJWT) of the pass
object, signed with the service account key of WALLET_GOOGLE_SERVICE_ACCOUNT_FILE (a
development key is generated once without one; Google refuses such links).

Callbacks are signed with Google's ECv2SigningOnly protocol (the one Tink's
PaymentMethodTokenRecipient verifies): a root key of WALLET_GOOGLE_CALLBACK_KEYS signs
an intermediate key, which signs the message. Signed bytes are length-prefixed fields
(4-byte little-endian length, then UTF-8): sender id `GooglePayPasses`, [recipient id =
the issuer id,] protocol version, then the signed key or message.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from .design import render_text, rendered_fields
from .models import WalletItem
from .pass_templates import GOOGLE_BARCODES, GOOGLE_WALLET, hex6
from .passkit.certificates import dev_material_dir
from .services.items import item_expiration
from .services.locations import pass_locations
from .services.templates import template_of

SAVE_URL = "https://pay.google.com/gp/v/save/"
SENDER_ID = "GooglePayPasses"
PROTOCOL = "ECv2SigningOnly"
OBJECT_KINDS = {
    "offer": "offerObjects",
    "loyalty": "loyaltyObjects",
    "event_ticket": "eventTicketObjects",
}
CLASS_KINDS = {
    "offer": "offerClasses",
    "loyalty": "loyaltyClasses",
    "event_ticket": "eventTicketClasses",
}
DEV_EMAIL = "vibesweb-development@vibesweb-development.iam.gserviceaccount.com"


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: Any
    private_key_id: str | None
    development: bool


@cache
def service_account() -> ServiceAccount:
    """The configured service account (Google's JSON key file), or a development one."""
    if settings.WALLET_GOOGLE_SERVICE_ACCOUNT_FILE:
        info = json.loads(Path(settings.WALLET_GOOGLE_SERVICE_ACCOUNT_FILE).read_text())
        key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        return ServiceAccount(info["client_email"], key, info.get("private_key_id"), False)
    directory = dev_material_dir("google", _generate_dev_key)
    key = serialization.load_pem_private_key((directory / "key.pem").read_bytes(), None)
    return ServiceAccount(DEV_EMAIL, key, None, True)


def _generate_dev_key(directory: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def object_id(item: WalletItem) -> str:
    """Google's object id: `<issuer id>.<wallet_id>-<uuid>` (letters, digits, . _ -)."""
    return f"{settings.WALLET_GOOGLE_ISSUER_ID}.{item.campaign.wallet_id}-{item.uuid}"


def class_id(item: WalletItem) -> str:
    return f"{settings.WALLET_GOOGLE_ISSUER_ID}.{item.campaign.wallet_id}"


def pass_object(item: WalletItem) -> dict:
    """The Google Wallet object of `item`: its campaign's wallet template (or, without one,
    its design's fields as text modules), the stores it is relevant at, its messages."""
    campaign = item.campaign
    template = template_of(campaign, GOOGLE_WALLET)
    body: dict[str, Any] = {"id": object_id(item), "classId": class_id(item), "state": "ACTIVE"}
    body.update(_template_look(template, item) if template else _design_look(item))
    messages = body.pop("messages", []) + [
        {"header": m["header"], "body": m["body"]} for m in item.google_messages
    ]
    if messages:
        body["messages"] = [
            {"id": f"m{index}", "header": m["header"], "body": m["body"]}
            for index, m in enumerate(messages)
        ]
    locations = pass_locations(item)
    if locations:
        body["locations"] = [
            {"latitude": loc["latitude"], "longitude": loc["longitude"]} for loc in locations
        ]
    expiration = item_expiration(item)
    if expiration:
        body["validTimeInterval"] = {"end": {"date": expiration.isoformat()}}
    if (
        campaign.type == "loyalty"
        and item.tokens.get("loyalty_balance")
        and "loyaltyPoints" not in body
    ):
        body["loyaltyPoints"] = {"balance": {"string": item.tokens["loyalty_balance"]}}
    return body


def _design_look(item: WalletItem) -> dict:
    design = item.campaign.design or {}
    fields = rendered_fields(design, item.tokens)
    look: dict[str, Any] = {
        "hexBackgroundColor": design.get("background_color", "#1f2937"),
        "textModulesData": [
            {"id": field["key"], "header": field["label"], "body": field["value"]}
            for group in ("primary_fields", "secondary_fields", "auxiliary_fields", "back_fields")
            for field in fields[group]
            if field["value"]
        ][:10],
    }
    if design.get("barcode"):
        kind = {"qr": "QR_CODE", "pdf417": "PDF_417", "aztec": "AZTEC", "code128": "CODE_128"}
        barcode = design["barcode"]
        look["barcode"] = {
            "type": kind[barcode["format"]],
            "value": render_text(barcode["message"], item.tokens),
        }
    return look


def _image(url: str) -> dict:
    return {"sourceUri": {"uri": url}}


def _template_look(template: dict, item: WalletItem) -> dict:
    """The object fields of a wallet template (reference OpenAPI
    `googleWalletTemplateBody`), its text filled from the item's tokens."""

    def text(value: str | None) -> str:
        return render_text(value or "", item.tokens)

    look: dict[str, Any] = {}
    if template.get("background_color"):
        look["hexBackgroundColor"] = hex6(template["background_color"])
    barcode = template.get("barcode") or {}
    barcode_type = GOOGLE_BARCODES.get(barcode.get("type", "QR_CODE"))
    if barcode_type and barcode.get("value"):
        look["barcode"] = {"type": barcode_type, "value": text(barcode["value"])}
        if barcode.get("alternate_text"):
            look["barcode"]["alternateText"] = text(barcode["alternate_text"])
    modules = [
        {"id": f"{name}{index}", "header": text(m.get("header")), "body": text(m.get("body"))}
        for name in ("text_area", "subinfo")
        for index, m in enumerate(template.get(name, []))
        if m.get("body")
    ]
    if modules:
        look["textModulesData"] = modules[:10]
    links = [link for link in template.get("links", []) if link.get("uri")]
    if links:
        look["linksModuleData"] = {
            "uris": [
                {"uri": link["uri"], "description": link.get("description", "")} for link in links
            ]
        }
    hero = (template.get("hero_image") or template.get("strip_image") or {}).get("url")
    if hero:
        look["heroImage"] = _image(hero)
    look["messages"] = [
        {"header": text(m.get("header")), "body": text(m.get("body"))}
        for m in template.get("messages", [])
        if m.get("body")
    ]
    look.update(_kind_fields(template, item.campaign.type, text))
    return look


def _kind_fields(template: dict, kind: str, text) -> dict:
    """The loyalty-only and event-ticket-only object fields."""
    fields: dict[str, Any] = {}
    if kind == "loyalty":
        for name, google in (
            ("loyalty_points", "loyaltyPoints"),
            ("secondary_loyalty_points", "secondaryLoyaltyPoints"),
        ):
            points = template.get(name) or {}
            if points.get("balance"):
                fields[google] = {
                    "label": text(points.get("label")),
                    "balance": {"string": text(points["balance"])},
                }
        account = template.get("account") or {}
        if account.get("name"):
            fields["accountName"] = text(account["name"])
        if account.get("id"):
            fields["accountId"] = text(account["id"])
    if kind == "event_ticket":
        if template.get("ticket_holder_name"):
            fields["ticketHolderName"] = text(template["ticket_holder_name"])
        if template.get("ticket_number"):
            fields["ticketNumber"] = text(template["ticket_number"])
        code = (template.get("reservation_info") or {}).get("confirmation_code")
        if code:
            fields["reservationInfo"] = {"confirmationCode": text(code)}
    return fields


def pass_class(item: WalletItem) -> dict | None:
    """The Google Wallet class the campaign's wallet template describes (carried in the
    save link's JWT beside the object, so Google creates it), or None without one."""
    campaign = item.campaign
    template = template_of(campaign, GOOGLE_WALLET)
    if template is None:
        return None
    logo = _image(template["logo"]["url"])
    body: dict[str, Any] = {
        "id": class_id(item),
        "issuerName": template["issuer"],
        "reviewStatus": "UNDER_REVIEW",
    }
    if template.get("background_color"):
        body["hexBackgroundColor"] = hex6(template["background_color"])
    if campaign.type == "offer":
        body.update(
            title=template["title"],
            provider=template.get("provider") or template["issuer"],
            redemptionChannel="BOTH",
            titleImage=logo,
        )
        if template.get("description"):
            body["details"] = template["description"]
    elif campaign.type == "loyalty":
        body.update(programName=template["title"], programLogo=logo)
    else:
        body.update(
            eventName={"defaultValue": {"language": "en-US", "value": template["title"]}},
            logo=logo,
        )
        if template.get("event_id"):
            body["eventId"] = template["event_id"]
    return body


def save_url(item: WalletItem, *, origin: str) -> str:
    """The "Save to Google Wallet" link of `item` (an RS256 JWT of its object)."""
    account = service_account()
    claims = {
        "iss": account.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(time.time()),
        "origins": [origin],
        "payload": {OBJECT_KINDS[item.campaign.type]: [pass_object(item)]},
    }
    google_class = pass_class(item)
    if google_class is not None:
        claims["payload"][CLASS_KINDS[item.campaign.type]] = [google_class]
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    token = jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)
    return SAVE_URL + token


class CallbackRejected(Exception):
    """A Google callback that is malformed, forged or expired."""


@dataclass(frozen=True)
class CallbackMessage:
    class_id: str
    object_id: str
    event_type: str  # "save" or "del"
    nonce: str


def _length_value(*parts: str) -> bytes:
    out = b""
    for part in parts:
        data = part.encode()
        out += struct.pack("<I", len(data)) + data
    return out


def callback_root_keys(now_ms: int) -> list[ec.EllipticCurvePublicKey]:
    """Google's unexpired ECv2SigningOnly root keys, from settings."""
    raw = settings.WALLET_GOOGLE_CALLBACK_KEYS
    if not raw and settings.WALLET_GOOGLE_CALLBACK_KEYS_FILE:
        raw = Path(settings.WALLET_GOOGLE_CALLBACK_KEYS_FILE).read_text()
    if not raw:
        return []
    keys = []
    for entry in json.loads(raw).get("keys", []):
        if entry.get("protocolVersion") != PROTOCOL:
            continue
        expiration = entry.get("keyExpiration")
        if expiration and int(expiration) <= now_ms:
            continue
        keys.append(_public_key(entry["keyValue"]))
    return keys


def _public_key(value: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(base64.b64decode(value))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CallbackRejected("not an EC key")
    return key


def _verified(key: ec.EllipticCurvePublicKey, signature: str, data: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def callback_verify(body: bytes, *, now_ms: int | None = None) -> CallbackMessage:
    """The verified message of a Google callback; CallbackRejected otherwise."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    try:
        envelope = json.loads(body)
        intermediate = envelope["intermediateSigningKey"]
        signed_key = intermediate["signedKey"]
        key_signatures = intermediate["signatures"]
        signed_message = envelope["signedMessage"]
        signature = envelope["signature"]
        protocol = envelope["protocolVersion"]
        if not all(isinstance(v, str) for v in (signed_key, signed_message, signature)):
            raise TypeError("strings expected")
        if not isinstance(key_signatures, list):
            raise TypeError("a list of signatures expected")
    except (ValueError, KeyError, TypeError) as error:
        raise CallbackRejected(f"malformed callback: {error}") from None
    if protocol != PROTOCOL:
        raise CallbackRejected(f"unsupported protocolVersion {str(protocol)[:32]!r}")
    roots = callback_root_keys(now_ms)
    if not roots:
        raise CallbackRejected("no Google callback keys configured (WALLET_GOOGLE_CALLBACK_KEYS)")
    key_bytes = _length_value(SENDER_ID, PROTOCOL, signed_key)
    if not any(_verified(root, str(sig), key_bytes) for root in roots for sig in key_signatures):
        raise CallbackRejected("the intermediate signing key is not signed by Google")
    try:
        key_info = json.loads(signed_key)
        expiration = int(key_info["keyExpiration"])
        intermediate_key = _public_key(key_info["keyValue"])
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise CallbackRejected(f"malformed signedKey: {error}") from None
    if expiration <= now_ms:
        raise CallbackRejected("the intermediate signing key has expired")
    message_bytes = _length_value(
        SENDER_ID, settings.WALLET_GOOGLE_ISSUER_ID, PROTOCOL, signed_message
    )
    if not _verified(intermediate_key, signature, message_bytes):
        raise CallbackRejected("the message signature does not verify")
    try:
        message = json.loads(signed_message)
        result = CallbackMessage(
            class_id=str(message["classId"]),
            object_id=str(message["objectId"]),
            event_type=str(message["eventType"]),
            nonce=str(message.get("nonce", "")),
        )
        expires = message.get("expTimeMillis")
        expires = None if expires is None else int(expires)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CallbackRejected(f"malformed signedMessage: {error}") from None
    if expires is not None and expires <= now_ms:
        raise CallbackRejected("the callback message has expired")
    if result.event_type not in ("save", "del"):
        raise CallbackRejected(f"unknown eventType {result.event_type[:32]!r}")
    return result
