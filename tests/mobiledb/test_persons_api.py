"""The Persons API of SPEC section 3, replaying the seeds' examples."""

from __future__ import annotations

import uuid

import pytest

from mobiledb.models import Person
from tests.conftest import error_codes
from tests.factories import PersonFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db

PERSONS = "/companies/ACME/mobiledb/persons"
SEED_V1 = {
    "external_person_id": "EXT542342",
    "mobile_phone": {"mdn": "2995551234"},
    "custom_fields": {"first_name": "John"},
}
SEED_V2 = {**SEED_V1, "mobile_phone": {"mdn": "+12995551234"}}


def test_add_person_v1_answers_201_with_the_person(api, standard_fields):
    response = api.post(PERSONS + "/", SEED_V1)
    assert response.status_code == 201
    body = response.json()
    assert body["external_person_id"] == "EXT542342"
    assert body["mobile_phone"] == {"mdn": "2995551234", "carrier_code": None}
    assert body["custom_fields"] == {"first_name": "John"}
    assert body["url"] == f"/companies/ACME/mobiledb/persons/{body['person_id']}"
    assert str(uuid.UUID(body["person_key"])) == body["person_key"]
    assert body["created_at"].endswith("Z")
    assert Person.objects.get().mdn == "+12995551234"


def test_add_person_v2_takes_e164_and_returns_e164(api_v2, standard_fields):
    response = api_v2.post(PERSONS, SEED_V2)
    assert response.status_code == 201
    assert response.json()["mobile_phone"]["mdn"] == "+12995551234"


def test_add_person_v2_takes_10_digit_us(api_v2, company):
    response = api_v2.post(PERSONS, {"mobile_phone": {"mdn": "2995551234"}})
    assert response.json()["mobile_phone"]["mdn"] == "+12995551234"


def test_add_person_v2_takes_international_numbers(api_v2, company):
    response = api_v2.post(PERSONS, {"mobile_phone": {"mdn": "+447700900123"}})
    assert response.status_code == 201
    assert response.json()["mobile_phone"]["mdn"] == "+447700900123"


def test_add_with_known_mdn_merges_and_answers_200(api, standard_fields):
    first = api.post(PERSONS, SEED_V1).json()
    response = api.post(
        PERSONS, {"mobile_phone": {"mdn": "2995551234"}, "custom_fields": {"points": 5}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["person_id"] == first["person_id"]
    assert body["custom_fields"] == {"first_name": "John", "points": 5}
    assert Person.objects.count() == 1


def test_add_with_known_mdn_and_other_external_id_answers_409(api, standard_fields):
    api.post(PERSONS, SEED_V1)
    response = api.post(
        PERSONS, {**SEED_V1, "external_person_id": "SOMEONE-ELSE", "custom_fields": {}}
    )
    assert response.status_code == 409
    assert error_codes(response) == [ErrorCode.EXTERNAL_ID_MISMATCH]


def test_add_with_taken_external_id_answers_409(api, company):
    api.post(PERSONS, {"external_person_id": "E1"})
    response = api.post(
        PERSONS, {"external_person_id": "E1", "mobile_phone": {"mdn": "6125550100"}}
    )
    assert response.status_code == 409
    assert error_codes(response) == [ErrorCode.EXTERNAL_ID_ALREADY_ASSIGNED]


def test_add_ignores_server_owned_fields(api, company):
    response = api.post(
        PERSONS,
        {
            "external_person_id": "E1",
            "person_id": 999999,
            "timezone_source": "hacked",
            "created_at": "2001-01-01T00:00:00Z",
            "updated_at": "2001-01-01T00:00:00Z",
        },
    )
    body = response.json()
    assert body["person_id"] != 999999
    assert body["timezone_source"] is None
    assert not body["created_at"].startswith("2001")


def test_add_without_mdn_or_external_id_answers_400(api, standard_fields):
    response = api.post(PERSONS, {"custom_fields": {"first_name": "A"}})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.PERSON_CREATE_REQUIRES_IDENTIFIER]


@pytest.mark.parametrize(
    ("mdn", "code"),
    [
        ("12345", ErrorCode.INVALID_MDN),
        ("29955512345678", ErrorCode.INVALID_MDN),
        ("299555ABCD", ErrorCode.INVALID_MDN),
        ("+12995551234", ErrorCode.E164_NOT_ALLOWED_IN_V1),
        ("", ErrorCode.INVALID_MDN),
    ],
)
def test_bad_mdn_in_v1_answers_400(api, company, mdn, code):
    response = api.post(PERSONS, {"mobile_phone": {"mdn": mdn}})
    assert response.status_code == 400
    assert error_codes(response) == [code]


@pytest.mark.parametrize("mdn", ["+1299555", "+12995551234567", "+4477009ABCD", "+", "0995551234"])
def test_bad_mdn_in_v2_answers_400(api_v2, company, mdn):
    response = api_v2.post(PERSONS, {"mobile_phone": {"mdn": mdn}})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_MDN]


def test_external_id_over_128_characters_answers_400(api, company):
    response = api.post(PERSONS, {"external_person_id": "x" * 129})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.VALUE_TOO_LONG]


def test_unknown_custom_field_answers_400(api, standard_fields):
    response = api.post(PERSONS, {"external_person_id": "E", "custom_fields": {"nope": "x"}})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.CUSTOM_FIELD_NOT_FOUND]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("points", "12", ErrorCode.INVALID_CUSTOM_FIELD_VALUE),
        ("points", 1.5, ErrorCode.INVALID_CUSTOM_FIELD_VALUE),
        ("points", True, ErrorCode.INVALID_CUSTOM_FIELD_VALUE),
        ("first_name", 12, ErrorCode.INVALID_CUSTOM_FIELD_VALUE),
        ("tier", "GOLD", ErrorCode.INVALID_SELECT_OPTION),
        ("tier", ["gold"], ErrorCode.INVALID_SELECT_OPTION),
        ("interests", "shoes", ErrorCode.INVALID_CUSTOM_FIELD_VALUE),
        ("interests", ["shoes", "Bags"], ErrorCode.INVALID_SELECT_OPTION),
    ],
)
def test_wrong_custom_field_type_answers_400(api, standard_fields, field, value, code):
    response = api.post(PERSONS, {"external_person_id": "E", "custom_fields": {field: value}})
    assert response.status_code == 400
    assert error_codes(response) == [code]
    assert Person.objects.count() == 0


def test_every_bad_custom_field_is_reported(api, standard_fields):
    response = api.post(
        PERSONS,
        {"external_person_id": "E", "custom_fields": {"nope": 1, "tier": "x", "points": "y"}},
    )
    assert sorted(error_codes(response)) == [220, 221, 222]


def test_selects_read_as_id_name_option_key(api, standard_fields):
    body = api.post(
        PERSONS,
        {
            "external_person_id": "E",
            "custom_fields": {"tier": "gold", "interests": ["bags", "shoes"]},
        },
    ).json()
    tier = body["custom_fields"]["tier"]
    assert tier["option_key"] == "gold" and tier["name"] == "Gold" and isinstance(tier["id"], int)
    assert [o["option_key"] for o in body["custom_fields"]["interests"]] == ["bags", "shoes"]


def test_a_person_read_can_be_put_back_unchanged(api, standard_fields):
    body = api.post(
        PERSONS,
        {"external_person_id": "E", "custom_fields": {"tier": "gold", "interests": ["bags"]}},
    ).json()
    response = api.put(f"{PERSONS}/{body['person_id']}", body)
    assert response.status_code == 200
    assert response.json()["custom_fields"] == body["custom_fields"]


def test_get_person_by_id_key_and_external_id(api, company):
    person = PersonFactory(company=company, external_person_id="CRM/42")
    for path in (
        f"{PERSONS}/{person.pk}",
        f"{PERSONS}/{person.person_key}/",
        f"{PERSONS}/external/CRM/42",
    ):
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.json()["person_id"] == person.pk


def test_person_id_that_is_not_a_number_answers_400(api, company):
    response = api.get(f"{PERSONS}/not-a-number")
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_PERSON_ID]


def test_unknown_person_answers_404(api, company):
    assert api.get(f"{PERSONS}/424242").status_code == 404
    assert api.get(f"{PERSONS}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{PERSONS}/external/nobody").status_code == 404
    assert api.put(f"{PERSONS}/424242", {"custom_fields": {}}).status_code == 404


def test_update_keeps_omitted_fields_and_null_clears(api, standard_fields):
    created = api.post(
        PERSONS, {**SEED_V1, "custom_fields": {"first_name": "J", "points": 3}}
    ).json()
    response = api.put(f"{PERSONS}/{created['person_id']}", {"custom_fields": {"points": None}})
    assert response.status_code == 200
    body = response.json()
    assert body["custom_fields"] == {"first_name": "J"}
    assert body["external_person_id"] == "EXT542342"
    assert body["mobile_phone"]["mdn"] == "2995551234"


def test_update_by_external_id_in_body_replays_the_seed(api, standard_fields):
    api.post(PERSONS, SEED_V1)
    response = api.put(PERSONS, {**SEED_V1, "custom_fields": {"first_name": "Johnny"}})
    assert response.status_code == 200
    assert response.json()["custom_fields"]["first_name"] == "Johnny"


def test_update_by_unknown_external_id_in_body_answers_404(api, company):
    assert api.put(PERSONS, {"external_person_id": "ghost"}).status_code == 404


def test_update_to_another_mdn_answers_409(api, standard_fields):
    created = api.post(PERSONS, SEED_V1).json()
    response = api.put(f"{PERSONS}/{created['person_id']}", {"mobile_phone": {"mdn": "6125550199"}})
    assert response.status_code == 409
    assert error_codes(response) == [ErrorCode.MDN_CHANGE_NOT_ALLOWED]


def test_update_with_the_same_mdn_is_fine(api, standard_fields):
    created = api.post(PERSONS, SEED_V1).json()
    response = api.put(f"{PERSONS}/{created['person_id']}", {"mobile_phone": {"mdn": "2995551234"}})
    assert response.status_code == 200


def test_update_gives_a_phone_to_a_person_without_one(api, company):
    created = api.post(PERSONS, {"external_person_id": "E1"}).json()
    response = api.put(f"{PERSONS}/{created['person_id']}", {"mobile_phone": {"mdn": "6125550100"}})
    assert response.status_code == 200
    assert response.json()["mobile_phone"]["mdn"] == "6125550100"


def test_update_to_an_mdn_of_another_person_answers_409(api, standard_fields):
    api.post(PERSONS, SEED_V1)
    created = api.post(PERSONS, {"external_person_id": "E2"}).json()
    response = api.put(f"{PERSONS}/{created['person_id']}", {"mobile_phone": {"mdn": "2995551234"}})
    assert response.status_code == 409
    assert error_codes(response) == [ErrorCode.MDN_ALREADY_ASSIGNED]


def test_search_by_mdn_in_any_common_format(api, company):
    person = PersonFactory(company=company, mdn="+12995551234")
    PersonFactory(company=company)
    for mdn in ["2995551234", "+12995551234", "(299) 555-1234", "299.555.1234", "1-299-555-1234"]:
        found = api.get(PERSONS, QUERY_STRING=f"mdn={mdn}").json()
        assert [p["person_id"] for p in found] == [person.pk], mdn


def test_search_by_external_id_person_key_and_updated_since(api, company):
    person = PersonFactory(company=company, external_person_id="X9")
    PersonFactory(company=company)
    assert [p["person_id"] for p in api.get(f"{PERSONS}?external_person_id=X9").json()] == [
        person.pk
    ]
    by_key = api.get(f"{PERSONS}?person_key={person.person_key}").json()
    assert [p["person_id"] for p in by_key] == [person.pk]
    assert len(api.get(f"{PERSONS}?updated_since=2000-01-01T00:00:00Z").json()) == 2
    assert api.get(f"{PERSONS}?updated_since=2999-01-01T00:00:00Z").json() == []


def test_search_by_custom_field_values(api, standard_fields):
    api.post(
        PERSONS,
        {"external_person_id": "A", "custom_fields": {"tier": "gold", "interests": ["bags"]}},
    )
    api.post(PERSONS, {"external_person_id": "B", "custom_fields": {"tier": "silver", "points": 7}})
    gold = api.get(PERSONS, QUERY_STRING="custom_fields[tier]=gold").json()
    assert [p["external_person_id"] for p in gold] == ["A"]
    bags = api.get(PERSONS, QUERY_STRING="custom_fields.interests=bags").json()
    assert [p["external_person_id"] for p in bags] == ["A"]
    seven = api.get(PERSONS, QUERY_STRING="custom_fields[points]=7").json()
    assert [p["external_person_id"] for p in seven] == ["B"]


@pytest.mark.parametrize(
    "query",
    [
        "mdn=abc",
        "updated_since=yesterday",
        "person_key=nope",
        "custom_fields[nope]=1",
        "custom_fields[points]=x",
    ],
)
def test_bad_search_parameters_answer_400(api, standard_fields, query):
    assert api.get(PERSONS, QUERY_STRING=query).status_code == 400


def test_tags_can_be_added_listed_and_removed(api, company):
    person = PersonFactory(company=company)
    base = f"{PERSONS}/{person.pk}/tags"
    assert api.post(base, {"tags": ["vip", "beta"]}).status_code == 201
    assert api.get(base).json() == ["beta", "vip"]
    assert api.put(f"{base}/gold").status_code == 201
    assert api.get(f"{base}/gold").json() == {"tag": "gold"}
    assert api.delete(f"{base}/vip").status_code == 204
    assert api.get(f"{base}/vip").status_code == 404
    assert api.delete(base).status_code == 204
    assert api.get(base).json() == []


def test_custom_fields_are_listed_with_options(api, standard_fields):
    fields = api.get("/companies/ACME/mobiledb/custom_fields").json()
    assert [f["name"] for f in fields] == ["first_name", "interests", "points", "tier"]
    tier = next(f for f in fields if f["name"] == "tier")
    assert [o["key"] for o in tier["options"]] == ["gold", "silver"]
    detail = api.get(f"/companies/ACME/mobiledb/custom_fields/{tier['id']}/")
    assert detail.json()["name"] == "tier"
    assert api.get("/companies/ACME/mobiledb/custom_fields/99999").status_code == 404


def test_a_new_custom_field_is_usable_at_once(api, standard_fields):
    from mobiledb.persons.custom_fields import custom_field_create

    api.post(PERSONS, {"external_person_id": "A"})  # warms the schema cache
    custom_field_create(company=standard_fields, name="late", data_type="boolean")
    response = api.post(PERSONS, {"external_person_id": "B", "custom_fields": {"late": True}})
    assert response.status_code == 201


def test_a_defined_custom_field_name_filters_like_custom_fields_brackets(api, standard_fields):
    api.post(PERSONS, {"external_person_id": "A", "custom_fields": {"tier": "gold"}})
    api.post(PERSONS, {"external_person_id": "B", "custom_fields": {"tier": "silver"}})
    response = api.get(PERSONS, QUERY_STRING="tier=gold")
    assert response.status_code == 200
    assert [p["external_person_id"] for p in response.json()] == ["A"]
    assert api.get(PERSONS, QUERY_STRING="tier=bronze").status_code == 400


@pytest.mark.parametrize("query", ["tier=gold", "colour=red", "page=2", "mdn=2295551234&x=1"])
def test_an_unknown_query_parameter_answers_400_with_code_203(api, company, query):
    PersonFactory(company=company)
    response = api.get(PERSONS, QUERY_STRING=query)
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_QUERY_PARAMETER]


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "1.5", ""])
def test_a_limit_that_is_not_a_positive_whole_number_answers_400(api, company, limit):
    PersonFactory.create_batch(3, company=company)
    response = api.get(PERSONS, QUERY_STRING=f"limit={limit}")
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_QUERY_PARAMETER]


def test_limit_pages_and_a_forged_cursor_answers_400(api, company):
    PersonFactory.create_batch(3, company=company)
    first = api.get(PERSONS, QUERY_STRING="limit=2")
    assert len(first.json()) == 2 and 'rel="next"' in first["Link"]
    assert len(api.get(PERSONS, QUERY_STRING="limit=5000").json()) == 3  # read as the maximum
    forged = api.get(PERSONS, QUERY_STRING="cursor=o%3Dx%26p%3D")
    assert forged.status_code == 400
    assert error_codes(forged) == [ErrorCode.INVALID_QUERY_PARAMETER]


@pytest.mark.parametrize(
    "path",
    [
        "/companies/ACME",
        "/companies/ACME/mobiledb/persons/1",
        "/companies/ACME/mobiledb/subscription_lists",
        "/companies/ACME/mobiledb/broadcasts",
        "/companies/ACME/config/callbacks",
        "/companies/ACME/campaigns/acquisition",
    ],
)
def test_every_resource_refuses_an_unknown_query_parameter(api, company, path):
    PersonFactory(company=company, pk=1)
    response = api.get(path, QUERY_STRING="nonsense=1")
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_QUERY_PARAMETER]


def test_update_at_the_collection_without_external_id_answers_400_field_required(api, company):
    response = api.put(PERSONS, {"mobile_phone": {"mdn": "6125550199"}})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.FIELD_REQUIRED]


def test_a_created_person_is_named_by_the_location_header(api, company):
    body = {"external_person_id": "loc-1", "mobile_phone": {"mdn": "6125550123"}}
    response = api.post(PERSONS, body)
    assert response.status_code == 201
    assert response["Location"] == f"http://testserver{response.json()['url']}"
    assert api.get(response["Location"]).json()["external_person_id"] == "loc-1"
    merged = api.post(PERSONS, body)
    assert merged.status_code == 200 and "Location" not in merged
