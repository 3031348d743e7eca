"""The one place MDNs and custom field values are checked (SPEC section 4).

The API, the `.persons` import and the admin all call these functions, so a value is
accepted or refused alike whichever way it arrives. Values arrive either typed (JSON)
or as text (import cells, admin form strings): `from_text=True` parses text first, then
the same checks apply.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from vibesweb.dates import format_platform_datetime, parse_platform_datetime
from vibesweb.errors import DomainError, DomainErrors
from vibesweb.inputs import refuse_unsafe_text

from .errors import (
    CharacterSetViolation,
    CustomFieldNotFound,
    CustomFieldTooLong,
    E164NotAllowedInV1,
    InvalidCustomFieldValue,
    InvalidMDN,
    InvalidSelectOption,
    InvalidTimezone,
)

# --- Time zones --------------------------------------------------------------------------


@functools.cache
def _iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_timezone(value: Any) -> str | None:
    """An IANA time zone name (`America/Chicago`), or None for none; InvalidTimezone."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in _iana_time_zones():
        shown = str(value)[:64]
        raise InvalidTimezone(f"timezone '{shown}' is not an IANA time zone name")
    return value


# --- MDNs -------------------------------------------------------------------------------

# ASCII digits only: `\d` also matches "١٢٣" (Arabic-Indic), which must not be stored.
_US_TEN_DIGITS = re.compile(r"^[2-9][0-9]{9}$")
_US_E164 = re.compile(r"^\+1[2-9][0-9]{9}$")
_PUNCTUATION = re.compile(r"[\s().\-]")


def normalize_mdn(raw: Any, *, api_version: int = 2) -> str:
    """Return the E.164 form of an MDN written for `api_version`; raise InvalidMDN.

    Version 1 takes 10-digit US numbers only (E.164 is refused, seeds/003); version 2
    and the import take E.164 or 10-digit US. Numbers are checked for a possible length,
    not for an assigned area code: the seeds' own example, +12995551234, must pass.
    """
    if not isinstance(raw, str):
        raise InvalidMDN("mdn must be a string")
    value = raw.strip()
    # Fast path for the forms nearly every caller sends (phonenumbers costs ~20 us).
    if _US_TEN_DIGITS.match(value):
        return "+1" + value
    if api_version == 1:
        if value.startswith("+"):
            raise E164NotAllowedInV1()
        digits = _PUNCTUATION.sub("", value)
        if _US_TEN_DIGITS.match(digits):
            return "+1" + digits
        raise InvalidMDN(f"Invalid mdn '{value[:32]}': expected 10 digits")
    if _US_E164.match(value):
        return value
    compact = _PUNCTUATION.sub("", value)
    if _US_TEN_DIGITS.match(compact):
        return "+1" + compact
    if compact.startswith("+") and compact[1:].isascii() and compact[1:].isdigit():
        return _parse_international(compact, original=value)
    raise InvalidMDN(f"Invalid mdn '{value[:32]}': expected E.164 or 10-digit US")


def _parse_international(compact: str, *, original: str) -> str:
    if compact.startswith("+1"):
        raise InvalidMDN(f"Invalid mdn '{original[:32]}': a US number has 10 digits")
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise InvalidMDN(f"Invalid mdn '{original[:32]}'") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidMDN(f"Invalid mdn '{original[:32]}': not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_mdn_for_search(raw: str) -> str | None:
    """An MDN typed in any common format (search boxes, query strings), or None."""
    value = _PUNCTUATION.sub("", raw.strip())
    if value.startswith("1") and len(value) == 11:
        value = value[1:]
    if value.startswith("001"):
        value = "+" + value[3:]
    try:
        return normalize_mdn(value, api_version=2)
    except InvalidMDN:
        return None


def format_mdn(e164: str | None, *, api_version: int) -> str | None:
    """An MDN as version 1 shows it (10 digits for US numbers) or version 2 (E.164)."""
    if e164 and api_version == 1 and len(e164) == 12 and e164.startswith("+1"):
        return e164[2:]
    return e164


# --- Character sets ---------------------------------------------------------------------

# GSM 03.38 basic character set and its extension table.
_GSM7_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"
)


def fits_character_set(value: str, character_set: str) -> bool:
    if character_set == "ascii":
        return value.isascii()
    if character_set == "gsm7":
        return all(ch in _GSM7_CHARACTERS for ch in value)
    return True


# --- Custom field values ------------------------------------------------------------------


@dataclass(frozen=True)
class SelectOption:
    id: int
    key: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    """What validation needs of a CustomField, detached from the ORM (cheap to cache)."""

    id: int
    name: str
    data_type: str
    character_set: str = "unicode"
    max_length: int | None = None
    options: dict[str, SelectOption] = field(default_factory=dict)
    label: str = ""
    list_column: bool = False

    @property
    def display_label(self) -> str:
        return self.label or self.name

    @property
    def options_by_id(self) -> dict[int, SelectOption]:
        return {option.id: option for option in self.options.values()}


_TRUE_WORDS = {"true", "t", "yes", "y", "1"}
_FALSE_WORDS = {"false", "f", "no", "n", "0"}
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")
_INT64 = 2**63


def _invalid(spec: FieldSpec, reason: str) -> InvalidCustomFieldValue:
    return InvalidCustomFieldValue(f"Invalid custom field value for '{spec.name}': {reason}")


def _clean_string(spec: FieldSpec, value: Any, from_text: bool) -> str:
    if not isinstance(value, str):
        raise _invalid(spec, "expected a string")
    refuse_unsafe_text(value, where=f"Custom field '{spec.name}'")
    if not fits_character_set(value, spec.character_set):
        raise CharacterSetViolation(
            f"Custom field value is incompatible with the field's character set "
            f"('{spec.name}' takes {spec.character_set})"
        )
    if spec.max_length is not None and len(value) > spec.max_length:
        raise CustomFieldTooLong(
            f"Invalid custom field value for '{spec.name}': "
            f"longer than {spec.max_length} characters"
        )
    return value


def _clean_integer(spec: FieldSpec, value: Any, from_text: bool) -> int:
    if from_text and isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(spec, "expected an integer")
    if not -_INT64 <= value < _INT64:
        raise _invalid(spec, "integer out of range")
    return value


def _clean_decimal(spec: FieldSpec, value: Any, from_text: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(spec, "expected a number")
    if isinstance(value, str) and not from_text:
        raise _invalid(spec, "expected a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(spec, "expected a number") from None
    if not number.is_finite():
        raise _invalid(spec, "expected a finite number")
    return str(number)


def _clean_boolean(spec: FieldSpec, value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _invalid(spec, "expected true or false")


def _clean_date(spec: FieldSpec, value: Any, from_text: bool) -> str:
    if not isinstance(value, str):
        raise _invalid(spec, "expected a date such as 2017-01-15T15:34:52Z")
    try:
        return format_platform_datetime(parse_platform_datetime(value))
    except ValueError:
        raise _invalid(spec, "expected a date such as 2017-01-15T15:34:52Z") from None


def _option_key(value: Any) -> Any:
    # Accept the read shape {id, name, option_key} too, so a GET body can be PUT back.
    if isinstance(value, dict) and "option_key" in value:
        return value["option_key"]
    return value


def _clean_single_select(spec: FieldSpec, value: Any, from_text: bool) -> str:
    key = _option_key(value)
    if not isinstance(key, str) or key not in spec.options:
        raise InvalidSelectOption(
            f"Invalid custom field value for '{spec.name}': "
            f"'{str(key)[:50]}' is not one of its option keys"
        )
    return key


def _clean_multi_select(
    spec: FieldSpec, value: Any, from_text: bool, delimiter: str = "|"
) -> list[str]:
    if from_text and isinstance(value, str):
        value = value.split(delimiter)
        # Fast path (imports): every part a known key, none repeated, none empty.
        options = spec.options
        if all(part in options for part in value) and len(set(value)) == len(value):
            return value
        value = [part for part in value if part != ""]
    if not isinstance(value, list):
        raise _invalid(spec, "expected a list of option keys")
    keys: list[str] = []
    for item in value:
        key = _clean_single_select(spec, item, from_text)
        if key not in keys:
            keys.append(key)
    return keys


_CLEANERS = {
    "string": _clean_string,
    "integer": _clean_integer,
    "decimal": _clean_decimal,
    "boolean": _clean_boolean,
    "date": _clean_date,
    "single_select": _clean_single_select,
}


def clean_custom_field_value(
    spec: FieldSpec, value: Any, *, from_text: bool = False, multi_select_delimiter: str = "|"
) -> Any:
    """The stored form of `value` for `spec`, or InvalidCustomFieldValue (or a subclass).

    `None` is returned unchanged: it means "clear this field" to every caller.
    """
    if value is None:
        return None
    if spec.data_type == "multi_select":
        return _clean_multi_select(spec, value, from_text, multi_select_delimiter)
    return _CLEANERS[spec.data_type](spec, value, from_text)


class CustomFieldSchema:
    """A company's custom fields by name, with validation and JSON rendering of values."""

    def __init__(self, specs: list[FieldSpec]):
        self.by_name = {spec.name: spec for spec in specs}

    def has_field(self, name: str) -> bool:
        return name in self.by_name

    def spec(self, name: str) -> FieldSpec:
        spec = self.by_name.get(name)
        if spec is None:
            raise CustomFieldNotFound(f"Custom field not found: '{str(name)[:100]}'")
        return spec

    def clean(self, values: dict, *, from_text: bool = False, delimiter: str = "|") -> dict:
        """Validate every entry; raise DomainErrors listing each bad one. None means clear."""
        cleaned: dict[str, Any] = {}
        problems: list[DomainError] = []
        for name, value in values.items():
            try:
                spec = self.spec(name)
                cleaned[name] = clean_custom_field_value(
                    spec, value, from_text=from_text, multi_select_delimiter=delimiter
                )
            except DomainError as error:
                problems.append(error)
        if problems:
            raise problems[0] if len(problems) == 1 else DomainErrors(problems)
        return cleaned

    def render(self, stored: dict) -> dict:
        """Stored values as the API shows them: selects expanded to {id, name, option_key}."""
        rendered: dict[str, Any] = {}
        for name, value in stored.items():
            spec = self.by_name.get(name)
            if spec is None or value is None:
                continue  # a field deleted since: its leftover value is not shown
            if spec.data_type == "single_select":
                rendered[name] = _render_option(spec, value)
            elif spec.data_type == "multi_select":
                rendered[name] = [_render_option(spec, key) for key in value]
            elif spec.data_type == "decimal":
                rendered[name] = Decimal(value)
            else:
                rendered[name] = value
        return rendered


def _render_option(spec: FieldSpec, key: str) -> dict:
    option = spec.options.get(key)
    if option is None:
        return {"id": None, "name": key, "option_key": key}
    return {"id": option.id, "name": option.label, "option_key": option.key}
