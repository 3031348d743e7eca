"""The input fast path answers exactly what the serializer would, or defers to it."""

from __future__ import annotations

import random

import pytest
from rest_framework import serializers

from mobiledb.persons.api.serializers import PersonInputSerializer, TagInputSerializer
from vibesweb.api.fast_input import fast_validate

STRINGS = [
    "a", "CRM-1", " a", "a ", "", "   ", "x" * 64, "x" * 65, "x" * 128, "x" * 129,
    "a\x00b", "a\ud800b", "é漢", 5, 5.5, True, None, [], {}, ["a"],
]  # fmt: skip
DICTS = [{}, {"first_name": "Ann"}, {"points": 1, "tier": None}, {1: "x"}, None, [], "x", 3]


def random_body(rng: random.Random) -> dict:
    body: dict = {}
    if rng.random() < 0.7:
        body["external_person_id"] = rng.choice(STRINGS)
    if rng.random() < 0.7:
        phone = rng.choice([None, [], "6125551234", {}, "phone"])
        if rng.random() < 0.7:
            phone = {}
            if rng.random() < 0.8:
                phone["mdn"] = rng.choice(STRINGS)
            if rng.random() < 0.5:
                phone["carrier_code"] = rng.choice(STRINGS)
            if rng.random() < 0.1:
                phone["extra"] = 1
        body["mobile_phone"] = phone
    if rng.random() < 0.6:
        body["custom_fields"] = rng.choice(DICTS)
    if rng.random() < 0.4:
        body["timezone"] = rng.choice(STRINGS)
    if rng.random() < 0.2:
        body["person_id"] = 7  # ignored by the serializer
    return body


def test_person_bodies_validate_to_what_the_serializer_gives():
    rng = random.Random(17)
    taken = 0
    for _ in range(3000):
        body = random_body(rng)
        fast = fast_validate(PersonInputSerializer, body)
        if fast is None:
            continue
        serializer = PersonInputSerializer(data=body)
        assert serializer.is_valid(), (body, serializer.errors)
        assert fast == serializer.validated_data, body
        taken += 1
    assert taken > 200  # the fast path really is taken for ordinary bodies


def test_the_api_body_of_a_new_person_takes_the_fast_path():
    body = {
        "external_person_id": "CRM-1",
        "mobile_phone": {"mdn": "6125551234", "carrier_code": None},
        "custom_fields": {"first_name": "Ann", "points": 3},
        "timezone": "America/Chicago",
    }
    assert fast_validate(PersonInputSerializer, body) == body


@pytest.mark.parametrize(
    "body",
    [
        {"external_person_id": " padded "},
        {"external_person_id": ""},
        {"external_person_id": "x" * 129},
        {"external_person_id": 12},
        {"mobile_phone": {"mdn": 6125551234}},
        {"custom_fields": []},
        {"timezone": ""},
    ],
)
def test_bodies_the_serializer_trims_converts_or_refuses_are_left_to_it(body):
    assert fast_validate(PersonInputSerializer, body) is None


def test_serializers_with_their_own_validation_are_never_fast():
    assert fast_validate(TagInputSerializer, {"tag": "vip"}) is None

    class Other(serializers.Serializer):
        count = serializers.IntegerField()

    assert fast_validate(Other, {"count": 1}) is None
