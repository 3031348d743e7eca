"""A fast path for shape-only input serializers on the API's hot path.

Instantiating a DRF serializer deep-copies every declared field, then validation walks
them through several layers: on a POST person that was a third of the request. For
a serializer made only of plain `CharField`s, `DictField`s (unvalidated values) and
nested serializers of the same, `fast_validate` checks a body with a plan compiled once
per class and returns exactly the `validated_data` the serializer would. Anything it is
not sure of (a missing required field, a blank, untrimmed, too long, null-byte or
surrogate string, a non-string, another field type, custom `validate*` methods) makes it
answer `None`, and the caller runs the real serializer, so every error body is DRF's own.
A test compares both on a corpus of bodies.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.validators import MaxLengthValidator, MinLengthValidator
from rest_framework import serializers
from rest_framework.fields import (
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
    _UnvalidatedField,
    empty,
)

_SURROGATES = re.compile("[\ud800-\udfff]")
_CHAR_VALIDATORS = (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)
_DEFER = object()  # "let the serializer decide"
_plans: dict[type, Any] = {}


def fast_validate(serializer_class: type[serializers.Serializer], data: dict) -> dict | None:
    """The serializer's `validated_data` for `data`, or None to run the serializer."""
    plan = _plans.get(serializer_class)
    if plan is None:
        try:
            plan = _compile(serializer_class()) or False
        except Exception:  # a serializer that needs arguments or context: never fast
            plan = False
        _plans[serializer_class] = plan
    if plan is False:
        return None
    result = plan(data)
    return None if result is _DEFER else result


def _compile(serializer: serializers.Serializer):
    """A function body -> validated data (or _DEFER), or None if a field is not plain."""
    cls = type(serializer)
    base = serializers.Serializer
    if isinstance(serializer, serializers.ListSerializer | serializers.ModelSerializer) or any(
        getattr(cls, name) is not getattr(base, name)
        for name in (
            "validate",
            "to_internal_value",
            "run_validation",
            "validate_empty_values",
            "get_fields",
        )  # fmt: skip
    ):
        return None
    steps = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if (
            field.source != name
            or field.default is not empty
            or getattr(cls, f"validate_{name}", None) is not None
        ):
            return None
        check = _field_check(field)
        if check is None:
            return None
        steps.append((name, field.required, check))

    def validate(data):
        if type(data) is not dict:
            return _DEFER
        out = {}
        for name, required, check in steps:
            if name not in data:
                if required:
                    return _DEFER
                continue
            value = check(data[name])
            if value is _DEFER:
                return _DEFER
            out[name] = value
        return out

    return validate


def _field_check(field):
    if type(field) is serializers.CharField:
        return _char_check(field)
    if type(field) is serializers.DictField:
        if type(field.child) is not _UnvalidatedField or field.validators:
            return None
        allow_null, allow_empty = field.allow_null, field.allow_empty

        def check_dict(value):
            if value is None:
                return None if allow_null else _DEFER
            if type(value) is not dict or (not allow_empty and not value):
                return _DEFER
            return {str(key): item for key, item in value.items()}

        return check_dict
    if isinstance(field, serializers.Serializer) and not field.validators:
        nested = _compile(field)
        if nested is None:
            return None
        allow_null = field.allow_null

        def check_nested(value):
            if value is None:
                return None if allow_null else _DEFER
            return nested(value)

        return check_nested
    return None


def _char_check(field):
    if not field.trim_whitespace or any(
        not isinstance(v, _CHAR_VALIDATORS) for v in field.validators
    ):
        return None
    allow_null = field.allow_null
    max_length = field.max_length
    min_length = field.min_length or 1  # blanks are left to the serializer

    def check_char(value):
        if value is None:
            return None if allow_null else _DEFER
        if (
            type(value) is not str
            or len(value) < min_length
            or (max_length is not None and len(value) > max_length)
            or value != value.strip()
            or "\x00" in value
            or _SURROGATES.search(value)
        ):
            return _DEFER
        return value

    return check_char
