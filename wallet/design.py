"""The pass design of a campaign: its shape, its one validation path (API, admin and
command alike) and how an item's tokens fill it.

A design is a JSON object:

    {"background_color": "#1e3a8a", "foreground_color": "#ffffff", "label_color": "#bfdbfe",
     "logo_text": "Acme", "organization_name": "Acme",
     "header_fields": [{"key": "points", "label": "Points", "value": "{{loyalty_balance}}"}],
     "primary_fields": [...], "secondary_fields": [...], "auxiliary_fields": [...],
     "back_fields": [...], "barcode": {"format": "qr", "message": "{{code}}"}}

Field values and the barcode message may hold `{{token}}` tags, filled from the item's
tokens by the renderer broadcasts use (mobiledb's `placeholders_fill`).
"""

from __future__ import annotations

import re
from typing import Any

from mobiledb.broadcasts.templating import placeholder_names, placeholders_fill
from vibesweb.errors import DomainError, DomainErrors, ErrorCode

COLOR_KEYS = ("background_color", "foreground_color", "label_color")
TEXT_KEYS = ("logo_text", "organization_name")
FIELD_GROUPS = (
    "header_fields",
    "primary_fields",
    "secondary_fields",
    "auxiliary_fields",
    "back_fields",
)
# Apple shows at most this many fields per group on the front (back fields scroll).
FIELD_LIMITS = {
    "header_fields": 3,
    "primary_fields": 1,
    "secondary_fields": 4,
    "auxiliary_fields": 4,
    "back_fields": 20,
}
BARCODE_FORMATS = {
    "qr": "PKBarcodeFormatQR",
    "pdf417": "PKBarcodeFormatPDF417",
    "aztec": "PKBarcodeFormatAztec",
    "code128": "PKBarcodeFormatCode128",
}
DEFAULT_DESIGN: dict[str, Any] = {
    "background_color": "#1f2937",
    "foreground_color": "#ffffff",
    "label_color": "#d1d5db",
}
IMAGE_NAMES = ("logo", "icon", "strip")
MAX_IMAGE_BYTES = 512 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_FIELD_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_TEXT = 500


class InvalidDesign(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "WalletErrors::InvalidDesign"


def design_clean(design: Any) -> dict:
    """The design, checked and normalized (colours lowercased, defaults filled).

    Raises DomainErrors listing every problem.
    """
    if design is None:
        design = {}
    if not isinstance(design, dict):
        raise InvalidDesign("design must be an object")
    errors: list[DomainError] = []
    known = set(COLOR_KEYS) | set(TEXT_KEYS) | set(FIELD_GROUPS) | {"barcode"}
    for name in sorted(set(design) - known):
        errors.append(InvalidDesign(f"design.{name} is not a design property"))
    cleaned: dict[str, Any] = dict(DEFAULT_DESIGN)
    for name in COLOR_KEYS:
        if name in design and design[name] is not None:
            value = design[name]
            if not isinstance(value, str) or not _COLOR.match(value):
                errors.append(InvalidDesign(f"design.{name} must be a colour such as #1e3a8a"))
            else:
                cleaned[name] = value.lower()
    for name in TEXT_KEYS:
        value = design.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            errors.append(InvalidDesign(f"design.{name} must be text of at most {MAX_TEXT}"))
        else:
            cleaned[name] = value
    for group in FIELD_GROUPS:
        fields, problems = _clean_fields(group, design.get(group))
        errors.extend(problems)
        if fields:
            cleaned[group] = fields
    barcode, problems = _clean_barcode(design.get("barcode"))
    errors.extend(problems)
    if barcode:
        cleaned["barcode"] = barcode
    if errors:
        raise DomainErrors(errors)
    return cleaned


def _clean_fields(group: str, fields: Any) -> tuple[list[dict], list[DomainError]]:
    if fields is None:
        return [], []
    if not isinstance(fields, list) or len(fields) > FIELD_LIMITS[group]:
        limit = FIELD_LIMITS[group]
        return [], [InvalidDesign(f"design.{group} must be a list of at most {limit} fields")]
    cleaned, errors, seen = [], [], set()
    for index, field in enumerate(fields):
        where = f"design.{group}[{index}]"
        if not isinstance(field, dict) or set(field) - {"key", "label", "value"}:
            errors.append(InvalidDesign(f"{where} must be an object with key, label, value"))
            continue
        key, label, value = field.get("key"), field.get("label", ""), field.get("value", "")
        if not isinstance(key, str) or not _FIELD_KEY.match(key) or key in seen:
            errors.append(InvalidDesign(f"{where}.key must be a unique identifier"))
            continue
        if not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in (label, value)):
            errors.append(InvalidDesign(f"{where}: label and value must be text"))
            continue
        seen.add(key)
        cleaned.append({"key": key, "label": label, "value": value})
    return cleaned, errors


def _clean_barcode(barcode: Any) -> tuple[dict | None, list[DomainError]]:
    if barcode is None:
        return None, []
    if (
        not isinstance(barcode, dict)
        or barcode.get("format") not in BARCODE_FORMATS
        or not isinstance(barcode.get("message"), str)
        or not barcode["message"]
        or set(barcode) - {"format", "message"}
    ):
        formats = ", ".join(BARCODE_FORMATS)
        return None, [InvalidDesign(f"design.barcode must be {{format ({formats}), message}}")]
    return {"format": barcode["format"], "message": barcode["message"]}, []


def image_clean(name: str, data: bytes) -> bytes:
    """PNG bytes for image `name`, or InvalidDesign (not a PNG, too large)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidDesign(f"images.{name} is larger than {MAX_IMAGE_BYTES // 1024} KB")
    if data and not data.startswith(PNG_SIGNATURE):
        raise InvalidDesign(f"images.{name} must be a PNG image")
    return data


def design_tokens(design: dict) -> list[str]:
    """Every {{token}} the design uses."""
    found: list[str] = []
    for group in FIELD_GROUPS:
        for field in design.get(group, []):
            found.extend(placeholder_names(field["value"]))
            found.extend(placeholder_names(field["label"]))
    if "barcode" in design:
        found.extend(placeholder_names(design["barcode"]["message"]))
    return list(dict.fromkeys(found))


def render_text(template: str, tokens: dict) -> str:
    """`template` with {{token}} tags filled from `tokens` (empty when unset)."""
    return placeholders_fill(template, lambda name, _argument: tokens.get(name))


def rendered_fields(design: dict, tokens: dict) -> dict[str, list[dict]]:
    """Each field group with labels and values filled from `tokens`."""
    return {
        group: [
            {
                "key": field["key"],
                "label": render_text(field["label"], tokens),
                "value": render_text(field["value"], tokens),
            }
            for field in design.get(group, [])
        ]
        for group in FIELD_GROUPS
    }
