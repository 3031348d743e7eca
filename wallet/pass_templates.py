"""The platform's pass templates (reference OpenAPI `appleWalletTemplateBody`, the iOS
`passbook_template`, and `googleWalletTemplateBody`, the Android `wallet_template`): their
shapes, their one validation path, and how they become the design a pass is built from.

A shape is written as data (`SHAPES`), so the API, the admin and the tests check a template
the same way: every property is typed, unknown properties and wrong types are refused
with the path of the value (`passbook_template.colors.background`), and `null` means
"not set".
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from vibesweb.errors import DomainError, DomainErrors

from .design import FIELD_LIMITS
from .errors import WalletInvalid, WalletRequired

PASSBOOK = "passbook"
GOOGLE_WALLET = "google_wallet"
# The body's envelope name of each kind (reference OpenAPI).
ENVELOPES = {PASSBOOK: "passbook_template", GOOGLE_WALLET: "wallet_template"}

MAX_TEXT = 500
MAX_LONG_TEXT = 5000
MASK = "********"
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_APP_ID = re.compile(r"^(?:id)?([0-9]{1,12})$")

TEXT, LONG_TEXT, COLOR, URL, BOOL, INT, ASCII = (
    "text", "long text", "colour", "url", "bool", "int", "ascii",
)  # fmt: skip


def _obj(**properties) -> dict:
    return {"object": properties}


def _list(item, limit: int) -> dict:
    return {"list": item, "limit": limit}


_IMAGE = _obj(url=URL)
_TRACKERS = _list(_obj(action={"choice": ("view", "add", "remove")}, tag=URL), 10)
_STRIP_IMAGES = _list(_obj(image_code=TEXT, url=URL), 50)
_PASSBOOK_FIELD = _obj(label=TEXT, value=LONG_TEXT, change_message=TEXT)
_HEADER_BODY = _obj(header=TEXT, body=LONG_TEXT)
_LINK = _obj(description=TEXT, uri=URL)
_PASSBOOK_BARCODES = (
    "PKBarcodeFormatQR",
    "PKBarcodeFormatPDF417",
    "PKBarcodeFormatAztec",
    "PKBarcodeFormatCode128",
)
# Google's barcode types, and the lowercase spellings the document also accepts.
GOOGLE_BARCODES = {
    "QR_CODE": "QR_CODE",
    "PDF_417": "PDF_417",
    "AZTEC": "AZTEC",
    "CODE_128": "CODE_128",
    "TEXT_ONLY": "TEXT_ONLY",
    "None": None,
    "qrCode": "QR_CODE",
    "pdf417": "PDF_417",
    "aztec": "AZTEC",
    "code128": "CODE_128",
    "textOnly": "TEXT_ONLY",
}

SHAPES: dict[str, dict] = {
    PASSBOOK: {
        "organization_name": TEXT,
        "pass_description": TEXT,
        "logo_text": TEXT,
        "nfc_message": TEXT,
        "app_id": TEXT,
        "thank_you_url": URL,
        "thank_you_message": TEXT,
        "sharing_prohibited": BOOL,
        "colors": _obj(background=COLOR, foreground=COLOR, label=COLOR),
        "barcode": _obj(type={"choice": _PASSBOOK_BARCODES}, code=ASCII, description=TEXT),
        "images": _obj(
            logo=_IMAGE,
            icon=_IMAGE,
            strip=_IMAGE,
            preview_strip=_IMAGE,
            background_image=_IMAGE,
            thumbnail=_IMAGE,
        ),
        "strip_images": _STRIP_IMAGES,
        "fields": _obj(
            header=_list(_PASSBOOK_FIELD, FIELD_LIMITS["header_fields"]),
            primary=_list(_PASSBOOK_FIELD, FIELD_LIMITS["primary_fields"]),
            secondary=_list(_PASSBOOK_FIELD, FIELD_LIMITS["secondary_fields"]),
            auxiliary=_list(_PASSBOOK_FIELD, FIELD_LIMITS["auxiliary_fields"]),
            back=_list(_PASSBOOK_FIELD, FIELD_LIMITS["back_fields"]),
        ),
        "trackers": _TRACKERS,
        "personalization_options": _obj(
            description=LONG_TEXT,
            terms_and_conditions=LONG_TEXT,
            required_personalization_fields=_list(
                {
                    "choice": (
                        "given_name",
                        "family_name",
                        "full_name",
                        "email_address",
                        "phone_number",
                        "postal_code",
                    )
                },
                6,
            ),
            api=_obj(base_url=URL, username=TEXT, password=TEXT),
        ),
    },
    GOOGLE_WALLET: {
        "title": TEXT,
        "issuer": TEXT,
        "provider": TEXT,
        "description": LONG_TEXT,
        "background_color": COLOR,
        "nfc_message": TEXT,
        "enable_expiration_notification": BOOL,
        "logo": _IMAGE,
        "hero_image": _IMAGE,
        "strip_image": _IMAGE,
        "strip_images": _STRIP_IMAGES,
        "barcode": _obj(
            type={"choice": tuple(GOOGLE_BARCODES)}, label=TEXT, value=ASCII, alternate_text=TEXT
        ),
        "loyalty_points": _obj(label=TEXT, balance=TEXT),
        "secondary_loyalty_points": _obj(label=TEXT, balance=TEXT),
        "account": _obj(name=TEXT, name_label=TEXT, id=TEXT, id_label=TEXT),
        "rewards_tier": _obj(label=TEXT, name=TEXT),
        "text_area": _list(_HEADER_BODY, 10),
        "subinfo": _list(_HEADER_BODY, 10),
        "messages": _list(_HEADER_BODY, 10),
        "links": _list(_LINK, 10),
        "help": _LINK,
        "homepage": _LINK,
        "trackers": _TRACKERS,
        "event_id": TEXT,
        "ticket_holder_name": TEXT,
        "ticket_number": TEXT,
        "ticket_type": TEXT,
        "venue": _obj(name=TEXT, address=TEXT),
        "event_info": _obj(
            doors_open_time=TEXT, doors_open_label=TEXT, start_time=TEXT, end_time=TEXT
        ),
        "seat_info": _obj(
            section=TEXT,
            section_label=TEXT,
            row=TEXT,
            row_label=TEXT,
            seat=TEXT,
            seat_label=TEXT,
            gate=TEXT,
            gate_label=TEXT,
        ),  # fmt: skip
        "reservation_info": _obj(confirmation_code=TEXT, confirmation_code_label=TEXT),
        "grouping_info": _obj(sort_index=INT),
    },
}

# What a complete template holds (the document's `required`), checked after a PUT merges.
REQUIRED = {
    PASSBOOK: ("pass_description", "colors", "images"),
    GOOGLE_WALLET: ("title", "issuer", "logo", "barcode"),
}


def template_clean(kind: str, body: Any) -> dict:
    """The template `body` of `kind`, checked: typed values, no unknown property, a nested
    `null` dropped, a top-level `null` kept (it removes that property: template_merge).
    Raises DomainErrors listing every problem."""
    errors: list[DomainError] = []
    cleaned = _clean(_obj(**SHAPES[kind]), body, ENVELOPES[kind], errors)
    if not errors:
        _check_rules(kind, cleaned, errors)
    if errors:
        raise DomainErrors(errors)
    removed = {name: None for name in SHAPES[kind] if name in body and body[name] is None}
    return {**cleaned, **removed}


def template_merge(kind: str, current: dict, changes: dict) -> dict:
    """`current` with the top-level properties of the checked `changes` replaced (an
    omitted property stays, a `null` one is removed); masked backend credentials keep
    their stored value. Raises DomainErrors when the result lacks a required property."""
    merged = {**current, **changes}
    for name in [name for name, value in merged.items() if value is None]:
        merged.pop(name)
    api_now = (merged.get("personalization_options") or {}).get("api")
    api_before = (current.get("personalization_options") or {}).get("api") or {}
    if api_now:
        for secret in ("username", "password"):
            if api_now.get(secret) == MASK and secret in api_before:
                api_now[secret] = api_before[secret]
    template_complete(kind, merged)
    return merged


def template_complete(kind: str, template: dict) -> None:
    """DomainErrors naming each required property `template` lacks (the document's
    `required`, and Apple's logo and icon images)."""
    where = ENVELOPES[kind]
    errors: list[DomainError] = [
        WalletRequired(f"{where}.{name} is required")
        for name in REQUIRED[kind]
        if template.get(name) in (None, {}, "")
    ]
    if kind == PASSBOOK and not errors:
        colors, images = template["colors"], template["images"]
        errors += [
            WalletRequired(f"{where}.colors.{name} is required")
            for name in ("background", "foreground", "label")
            if not colors.get(name)
        ]
        errors += [
            WalletRequired(f"{where}.images.{name}.url is required")
            for name in ("logo", "icon")
            if not (images.get(name) or {}).get("url")
        ]
    if kind == GOOGLE_WALLET and not errors and not template["logo"].get("url"):
        errors.append(WalletRequired(f"{where}.logo.url is required"))
    if errors:
        raise DomainErrors(errors)


def _clean(shape: Any, value: Any, where: str, errors: list[DomainError]) -> Any:
    if isinstance(shape, dict) and "object" in shape:
        return _clean_object(shape["object"], value, where, errors)
    if isinstance(shape, dict) and "list" in shape:
        if not isinstance(value, list) or len(value) > shape["limit"]:
            errors.append(WalletInvalid(f"{where} must be a list of at most {shape['limit']}"))
            return []
        return [_clean(shape["list"], v, f"{where}[{i}]", errors) for i, v in enumerate(value)]
    if isinstance(shape, dict) and "choice" in shape:
        if value not in shape["choice"]:
            errors.append(WalletInvalid(f"{where} must be one of: {', '.join(shape['choice'])}"))
        return value
    return _clean_scalar(shape, value, where, errors)


def _clean_object(properties: dict, value: Any, where: str, errors: list) -> dict:
    if not isinstance(value, dict):
        errors.append(WalletInvalid(f"{where} must be an object"))
        return {}
    for name in sorted(set(value) - set(properties)):
        errors.append(WalletInvalid(f"{where}.{str(name)[:64]} is not a template property"))
    return {
        name: _clean(properties[name], item, f"{where}.{name}", errors)
        for name, item in value.items()
        if name in properties and item is not None
    }


def _clean_scalar(kind: str, value: Any, where: str, errors: list[DomainError]) -> Any:
    if kind == BOOL:
        if not isinstance(value, bool):
            errors.append(WalletInvalid(f"{where} must be true or false"))
        return value
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**6:
            errors.append(WalletInvalid(f"{where} must be a whole number from 0"))
        return value
    limit = MAX_LONG_TEXT if kind == LONG_TEXT else MAX_TEXT
    if not isinstance(value, str) or len(value) > limit:
        errors.append(WalletInvalid(f"{where} must be text of at most {limit} characters"))
        return value
    if kind == COLOR and not _COLOR.match(value):
        errors.append(WalletInvalid(f"{where} must be a hex colour such as #1a73e8"))
    elif kind == ASCII and not value.isascii():
        errors.append(WalletInvalid(f"{where} must be ASCII (barcode content)"))
    elif kind == URL and value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            errors.append(WalletInvalid(f"{where} must be an http(s) URL"))
    return value


def _check_rules(kind: str, template: dict, errors: list[DomainError]) -> None:
    """The rules the document states in prose, beyond the types."""
    where = ENVELOPES[kind]
    codes = [entry.get("image_code") for entry in template.get("strip_images", [])]
    if len(codes) != len(set(codes)):
        errors.append(WalletInvalid(f"{where}.strip_images: each image_code must be unique"))
    if kind == PASSBOOK:
        for region, fields in template.get("fields", {}).items():
            for index, field in enumerate(fields):
                message = field.get("change_message")
                if message and "%@" not in message:
                    errors.append(
                        WalletInvalid(
                            f"{where}.fields.{region}[{index}].change_message must contain %@"
                        )
                    )
        if template.get("app_id") and not _APP_ID.match(template["app_id"]):
            errors.append(WalletInvalid(f"{where}.app_id must look like id123456 or 123456"))
    if kind == GOOGLE_WALLET:
        barcode = template.get("barcode") or {}
        if (
            barcode
            and GOOGLE_BARCODES.get(barcode.get("type", "QR_CODE"))
            and not barcode.get("value")
        ):
            errors.append(WalletRequired(f"{where}.barcode.value is required unless type is None"))


def template_masked(template: dict) -> dict:
    """The template as answered: the loyalty backend's credentials masked (document)."""
    api = (template.get("personalization_options") or {}).get("api")
    if not api:
        return template
    masked = {key: (MASK if key in ("username", "password") else v) for key, v in api.items()}
    options = {**template["personalization_options"], "api": masked}
    return {**template, "personalization_options": options}


def apple_app_id(template: dict) -> int | None:
    """The App Store id of `app_id` (`id123456` or `123456`)."""
    match = _APP_ID.match(template.get("app_id") or "")
    return int(match.group(1)) if match else None


def hex6(color: str) -> str:
    """`#abc` -> `#aabbcc` (lowercase)."""
    color = color.lower()
    if len(color) == 4:
        return "#" + "".join(c * 2 for c in color[1:])
    return color


_REGIONS = ("header", "primary", "secondary", "auxiliary", "back")


def passbook_card_design(template: dict) -> dict:
    """A passbook template in the campaign `design`'s shape, for the pass card the
    SmartLink page and the admin draw (wallet/_pass_card.html)."""
    colors = template["colors"]
    design: dict[str, Any] = {
        "background_color": hex6(colors["background"]),
        "foreground_color": hex6(colors["foreground"]),
        "label_color": hex6(colors["label"]),
        "logo_text": template.get("logo_text", ""),
    }
    for region in _REGIONS:
        design[f"{region}_fields"] = [
            {"key": f"{region}{index}", "label": f.get("label", ""), "value": f.get("value", "")}
            for index, f in enumerate(template.get("fields", {}).get(region, []))
        ]
    if (template.get("barcode") or {}).get("code"):
        design["barcode"] = {"format": "qr", "message": template["barcode"]["code"]}
    return design
