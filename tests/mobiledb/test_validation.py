"""The one validation path for MDNs and custom field values (SPEC section 4)."""

from __future__ import annotations

import pytest

from mobiledb import errors
from mobiledb.validation import (
    CustomFieldSchema,
    FieldSpec,
    SelectOption,
    clean_custom_field_value,
    format_mdn,
    normalize_mdn,
    normalize_mdn_for_search,
)


def spec(data_type: str, **kwargs) -> FieldSpec:
    return FieldSpec(id=1, name="f", data_type=data_type, **kwargs)


SELECT_OPTIONS = {
    "gold": SelectOption(id=1, key="gold", label="Gold"),
    "Gold": SelectOption(id=2, key="Gold", label="Other gold"),
}


@pytest.mark.parametrize(
    ("raw", "version", "e164"),
    [
        ("2995551234", 1, "+12995551234"),
        ("(299) 555-1234", 1, "+12995551234"),
        ("+12995551234", 2, "+12995551234"),
        ("2995551234", 2, "+12995551234"),
        ("+44 7700 900123", 2, "+447700900123"),
        (" +33612345678 ", 2, "+33612345678"),
    ],
)
def test_mdns_normalise_to_e164(raw, version, e164):
    assert normalize_mdn(raw, api_version=version) == e164


@pytest.mark.parametrize("raw", ["+1299555123", "1299555123", "0995551234", "+1 0995551234", "abc"])
def test_impossible_mdns_are_refused(raw):
    with pytest.raises(errors.InvalidMDN):
        normalize_mdn(raw, api_version=2)


def test_v1_refuses_e164_with_its_own_message():
    with pytest.raises(errors.E164NotAllowedInV1):
        normalize_mdn("+12995551234", api_version=1)


def test_mdns_format_per_version():
    assert format_mdn("+12995551234", api_version=1) == "2995551234"
    assert format_mdn("+12995551234", api_version=2) == "+12995551234"
    assert format_mdn("+447700900123", api_version=1) == "+447700900123"


def test_search_takes_any_common_format():
    for raw in ["12995551234", "1 (299) 555-1234", "+1 299 555 1234", "299-555-1234"]:
        assert normalize_mdn_for_search(raw) == "+12995551234"
    assert normalize_mdn_for_search("hello") is None


@pytest.mark.parametrize(
    ("charset", "value", "ok"),
    [
        ("ascii", "plain text", True),
        ("ascii", "café", False),
        ("gsm7", "café £5 {ok}", True),
        ("gsm7", "emoji 😀", False),
        ("gsm7", "ł", False),
        ("unicode", "emoji 😀", True),
    ],
)
def test_strings_respect_their_character_set(charset, value, ok):
    field = spec("string", character_set=charset)
    if ok:
        assert clean_custom_field_value(field, value) == value
    else:
        with pytest.raises(errors.CharacterSetViolation) as raised:
            clean_custom_field_value(field, value)
        assert raised.value.error_class == "PersonErrors::InvalidSelectCustomFieldValue"


def test_strings_respect_their_max_length():
    with pytest.raises(errors.InvalidCustomFieldValue):
        clean_custom_field_value(spec("string", max_length=3), "abcd")
    assert clean_custom_field_value(spec("string", max_length=3), "abc") == "abc"


@pytest.mark.parametrize(
    ("data_type", "text", "stored"),
    [
        ("integer", "42", 42),
        ("integer", "-7", -7),
        ("decimal", "12.50", "12.50"),
        ("boolean", "TRUE", True),
        ("boolean", "no", False),
        ("date", "2017-01-15T15:34:52Z", "2017-01-15T15:34:52Z"),
        ("date", "2017-01-15T10:34:52-0500", "2017-01-15T15:34:52Z"),
        ("date", "2017-01-15T10:34:52-05:00", "2017-01-15T15:34:52Z"),
        ("date", "2017-01-15", "2017-01-15T00:00:00Z"),
    ],
)
def test_text_values_parse_to_their_stored_form(data_type, text, stored):
    assert clean_custom_field_value(spec(data_type), text, from_text=True) == stored


@pytest.mark.parametrize(
    ("data_type", "value"),
    [
        ("integer", "42"),
        ("integer", 4.2),
        ("integer", 2**64),
        ("decimal", "NaN"),
        ("decimal", True),
        ("boolean", "true"),
        ("boolean", 1),
        ("date", "15/01/2017"),
        ("date", 20170115),
        ("string", 5),
    ],
)
def test_json_values_of_the_wrong_type_are_refused(data_type, value):
    with pytest.raises(errors.InvalidCustomFieldValue):
        clean_custom_field_value(spec(data_type), value)


def test_select_keys_are_case_sensitive():
    field = spec("single_select", options=SELECT_OPTIONS)
    assert clean_custom_field_value(field, "Gold") == "Gold"
    with pytest.raises(errors.InvalidSelectOption) as raised:
        clean_custom_field_value(field, "GOLD")
    assert raised.value.message.startswith("Invalid custom field value")


def test_multi_select_text_splits_on_its_delimiter():
    field = spec("multi_select", options=SELECT_OPTIONS)
    assert clean_custom_field_value(field, "gold|Gold", from_text=True) == ["gold", "Gold"]
    assert clean_custom_field_value(
        field, "gold;Gold", from_text=True, multi_select_delimiter=";"
    ) == ["gold", "Gold"]
    with pytest.raises(errors.InvalidSelectOption):
        clean_custom_field_value(field, "gold|silver", from_text=True)


def test_none_means_clear_for_every_type():
    for data_type in ["string", "integer", "decimal", "boolean", "date", "single_select"]:
        assert clean_custom_field_value(spec(data_type), None) is None


def test_schema_reports_unknown_fields_by_name():
    schema = CustomFieldSchema([spec("string")])
    with pytest.raises(errors.CustomFieldNotFound) as raised:
        schema.clean({"missing": "x"})
    assert raised.value.message == "Custom field not found: 'missing'"
