"""Conformance with the platform's published OpenAPI document (SPEC section 12, issue 13).

`vibes-platform-openapi.json` beside this module is a copy of
`reference/vibes-platform-openapi.json`. Every operation it lists is here exactly once:
called as written (its path, trailing slash included, its method, a body its request
schema accepts, fixture objects for its path parameters) and its answer validated against
the document's response schema; or listed as out of scope, with SPEC 12's reason; or
pending, a feature another branch is building, which joins the tested set when it lands.

The document is validated with these relaxations, each a rule of SPEC 12 or SPEC 3:
- identifiers (`id`, `*_id`) may be strings or integers (the document writes both);
- an absent value may be null (the document types most fields without `nullable`);
- custom field values are typed (the document writes them as strings);
- a search answers a plain array of what the document gives as one object, and one
  subscription is answered as an object where the document gives an array (SPEC 3).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest

from campaigns.incentives.loading import incentive_codes_load
from campaigns.incentives.pools import incentive_pool_create
from campaigns.incentives.services import incentive_issue, issuee_resolve
from mobiledb.models import Broadcast
from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import CallbackRegistrationFactory, PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory

DOCUMENT = json.loads((Path(__file__).parent / "vibes-platform-openapi.json").read_text())
METHODS = ("get", "put", "post", "delete", "patch")
COMPANY = "/companies/{company_key}"

# SPEC 12: "its push devices, mobile apps, source codes and event-triggered messages are
# out of scope".
OUT_OF_SCOPE: dict[tuple[str, str], str] = {
    ("GET", f"{COMPANY}/mobiledb/persons/{{person_key}}/push_devices"): "push devices",
    ("GET", f"{COMPANY}/mobiledb/persons/external/{{external_person_id}}/push_devices"): (
        "push devices"
    ),
    ("GET", "/mobile_apps/{app_id}/devices/{vibes_device_id}"): "mobile apps",
    ("POST", "/mobile_apps/{app_id}/devices/{vibes_device_id}/assign"): "mobile apps",
    ("GET", f"{COMPANY}/sourcecodes"): "source codes",
    ("POST", f"{COMPANY}/mobiledb/event_triggered_messages"): "event-triggered messages",
    ("GET", f"{COMPANY}/mobiledb/event_triggered_messages"): "event-triggered messages",
    **{
        (method, f"{COMPANY}/mobiledb/event_triggered_messages/{{event_triggered_message_id}}"): (
            "event-triggered messages"
        )
        for method in ("GET", "PUT", "DELETE")
    },
}

# Joins when that feature lands: wallet (branch `wallet`) is being built by another
# engineer; each operation moves into CALLS then.
PENDING_FEATURE_OPERATIONS: list[tuple[str, str]] = [
    ("GET", f"{COMPANY}/campaigns/wallet"),
    ("POST", f"{COMPANY}/campaigns/wallet"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}"),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{wallet_id}}"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items/{{wallet_item_id}}"),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items/{{wallet_item_id}}"),
    ("POST", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages/{{wallet_message_id}}"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{token}}/wallet_template"),
    ("POST", f"{COMPANY}/campaigns/wallet/{{token}}/wallet_template"),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{token}}/wallet_template"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{token}}/passbook_template"),
    ("POST", f"{COMPANY}/campaigns/wallet/{{token}}/passbook_template"),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{token}}/passbook_template"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{token}}/location_selector"),
    ("POST", f"{COMPANY}/campaigns/wallet/{{token}}/location_selector"),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{token}}/location_selector"),
    ("DELETE", f"{COMPANY}/campaigns/wallet/{{token}}/location_selector"),
    ("GET", f"{COMPANY}/campaigns/wallet/{{token}}/locations"),
    ("POST", f"{COMPANY}/campaigns/wallet/{{token}}/locations/bulk"),
    ("DELETE", f"{COMPANY}/campaigns/wallet/{{token}}/locations/{{id}}"),
    ("DELETE", f"{COMPANY}/campaigns/wallet/{{token}}/locations/delete_all"),
]


@dataclass
class World:
    """The fixture objects that stand in for path parameters and bodies."""

    company_key: str
    person: object
    subscription_list: object
    campaign: object
    broadcast: object
    registration: object
    pool: object
    code: str

    def path_parameters(self) -> dict[str, str]:
        return {
            "company_key": self.company_key,
            "person_key": str(self.person.person_key),
            "external_person_id": self.person.external_person_id,
            "subscription_list_id": str(self.subscription_list.pk),
            "acquisition_id": str(self.campaign.pk),
            "broadcast_id": str(self.broadcast.pk),
            "callback_id": str(self.registration.callback_id),
            "incentive_pool_id": str(self.pool.pk),
            "issuance_pool_id": str(self.pool.pk),
            "incentive_code": self.code,
        }


@dataclass
class Call:
    """How an operation is called: its body (from the world) and query; the status."""

    body: Callable[[World], dict] | None = None
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200


def _broadcast_body(world: World) -> dict:
    return {
        "name": "Spring sale",
        "send_scheduled_date": "2030-02-16T17:30:00Z",
        "targeting": {
            "message_template": "Hi {{first_name}}, 20% off today",
            "channel": "SMS",
            "source_lists": [str(world.subscription_list.pk)],
            "filters": [{"name": "first_name", "selector": "=", "value": ["Ann", "Bo"]}],
        },
    }


def _pool_body() -> dict:
    return {
        "name": "Spring coupons",
        "issuance_allowed": True,
        "redemption_allowed": True,
        "incentive_codes": {"low_threshold": 10, "max_characters": 20},
        "distribution": {"method": "unique"},
        "notification_email_address": "ops@example.com",
    }


CALLS: dict[tuple[str, str], Call] = {
    ("GET", f"{COMPANY}/incentives/pools"): Call(),
    ("POST", f"{COMPANY}/incentives/pools"): Call(body=lambda w: _pool_body()),
    ("GET", f"{COMPANY}/incentives/pools/{{incentive_pool_id}}"): Call(),
    ("PUT", f"{COMPANY}/incentives/pools/{{incentive_pool_id}}"): Call(
        body=lambda w: {**_pool_body(), "name": "Renamed"}
    ),
    ("POST", f"{COMPANY}/incentives/pools/{{issuance_pool_id}}/issuances"): Call(
        body=lambda w: {
            "external_issuee_id": "crm-2",
            "referring_application": "crm",
            "referring_application_ref_id": "order-1",
        }
    ),
    ("GET", f"{COMPANY}/incentives/codes/{{incentive_code}}"): Call(),
    ("GET", f"{COMPANY}/incentives/codes/{{incentive_code}}/issuances"): Call(),
    ("POST", f"{COMPANY}/incentives/codes/{{incentive_code}}/redemptions"): Call(
        body=lambda w: {"external_issuee_id": "crm-1", "referring_application": "till"}
    ),
    ("GET", f"{COMPANY}/incentives/codes/{{incentive_code}}/redemptions"): Call(),
    ("GET", f"{COMPANY}/campaigns/acquisition"): Call(),
    ("GET", f"{COMPANY}/campaigns/acquisition/{{acquisition_id}}"): Call(),
    ("GET", f"{COMPANY}/campaigns/acquisition/{{acquisition_id}}/participants"): Call(),
    ("POST", f"{COMPANY}/campaigns/acquisition/{{acquisition_id}}/participants"): Call(
        body=lambda w: {
            "mobile_phone": {"mdn": "6125550199"},
            "custom_fields": {"first_name": "Ann"},
        },
        status=201,
    ),
    ("POST", f"{COMPANY}/mobiledb/broadcasts/"): Call(body=_broadcast_body, status=201),
    ("GET", f"{COMPANY}/mobiledb/broadcasts"): Call(),
    ("GET", f"{COMPANY}/mobiledb/broadcasts/{{broadcast_id}}"): Call(),
    ("PUT", f"{COMPANY}/mobiledb/broadcasts/{{broadcast_id}}"): Call(
        body=lambda w: {"name": "Renamed", "send_scheduled_date": "2030-03-01T17:30:00Z"}
    ),
    ("DELETE", f"{COMPANY}/mobiledb/broadcasts/{{broadcast_id}}"): Call(),
    ("POST", f"{COMPANY}/config/callbacks/"): Call(
        body=lambda w: {
            "callback_type": "subscription_added",
            "destination": {
                "url": "http://127.0.0.1:9999/hook",
                "method": "POST",
                "content_type": "application/json",
            },
            "subscription_added": {"list_id": str(w.subscription_list.pk)},
        },
        status=201,
    ),
    ("GET", f"{COMPANY}/config/callbacks/"): Call(),
    ("GET", f"{COMPANY}/config/callbacks/{{callback_id}}"): Call(),
    ("PUT", f"{COMPANY}/config/callbacks/{{callback_id}}"): Call(
        body=lambda w: {
            "callback_type": "person_added",
            "destination": {"url": "http://127.0.0.1:9999/v2", "method": "PUT"},
        }
    ),
    ("DELETE", f"{COMPANY}/config/callbacks/{{callback_id}}"): Call(status=204),
    ("POST", f"{COMPANY}/config/callback_events/test"): Call(
        body=lambda w: {"callback_type": "person_added"}, status=201
    ),
    ("POST", f"{COMPANY}/events"): Call(
        body=lambda w: {
            "event_id": "evt-1",
            "event_type": "inbound_message",
            "event_data": {"mdn": "+16125550100", "short_code": "12345", "message": "hello"},
        },
        status=201,
    ),
    ("GET", f"{COMPANY}/mobiledb/persons/{{person_key}}"): Call(),
    ("PUT", f"{COMPANY}/mobiledb/persons/{{person_key}}"): Call(
        body=lambda w: {"custom_fields": {"first_name": "Bo"}}
    ),
    ("GET", f"{COMPANY}/mobiledb/persons/external/{{external_person_id}}"): Call(),
    ("PUT", f"{COMPANY}/mobiledb/persons/external/{{external_person_id}}"): Call(
        body=lambda w: {
            "mobile_phone": {"mdn": "6125550100", "carrier_code": "310-410"},
            "custom_fields": {"first_name": "Bo"},
        }
    ),
    ("GET", f"{COMPANY}/mobiledb/persons"): Call(query={"mdn": "6125550100"}),
    ("POST", f"{COMPANY}/mobiledb/persons/"): Call(
        body=lambda w: {
            "external_person_id": "crm-2",
            "mobile_phone": {"mdn": "6125550101"},
            "custom_fields": {"first_name": "Cy"},
        },
        status=201,
    ),
    ("GET", f"{COMPANY}/mobiledb/persons/{{person_key}}/subscriptions"): Call(
        query={"active_only": "true"}
    ),
    ("GET", f"{COMPANY}/mobiledb/persons/external/{{external_person_id}}/subscriptions"): Call(),
    **{
        (method, f"{COMPANY}/mobiledb/persons/{person}/subscriptions/{{subscription_list_id}}"): (
            Call()
        )
        for method in ("GET", "DELETE")
        for person in ("{person_key}", "external/{external_person_id}")
    },
    ("GET", f"{COMPANY}/mobiledb/subscription_lists/{{subscription_list_id}}/subscribers"): Call(
        query={"mdn": "6125550100"}
    ),
    ("GET", f"{COMPANY}/mobiledb/subscription_lists/"): Call(),
    ("GET", f"{COMPANY}/mobiledb/subscription_lists/{{subscription_list_id}}"): Call(),
    (
        "GET",
        f"{COMPANY}/mobiledb/subscription_lists/{{subscription_list_id}}/acquisition_campaigns/",
    ): Call(),
}


def document_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def operation_counts() -> dict[str, int]:
    return {
        "tested": len(CALLS),
        "out of scope": len(OUT_OF_SCOPE),
        "pending": len(PENDING_FEATURE_OPERATIONS),
    }


# --- the relaxed response schemas ------------------------------------------------------------


def _resolve(schema):
    """The schema with every `$ref` into components inlined."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve(DOCUMENT["components"]["schemas"][name])
        return {key: _resolve(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_resolve(item) for item in schema]
    return schema


def _is_identifier(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _relaxed(schema: dict, name: str = "") -> dict:
    schema = copy.deepcopy(schema)
    if name == "custom_fields":
        return {"type": ["object", "null"]}  # typed values (SPEC 12)
    kind = schema.get("type")
    if name == "url" and kind == "integer":
        kind = "string"  # incentiveCodeIssuanceResponse types incentive_pool.url as integer
    if isinstance(kind, str):
        kinds = {kind, "null"}
        if _is_identifier(name) and kind in ("string", "integer"):
            kinds |= {"string", "integer"}
        schema["type"] = sorted(kinds)
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    if "properties" in schema:
        schema["properties"] = {
            key: _relaxed(value, key) for key, value in schema["properties"].items()
        }
    if isinstance(schema.get("items"), dict):
        schema["items"] = _relaxed(schema["items"], name)
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = _relaxed(schema["additionalProperties"])
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            schema[key] = [_relaxed(item, name) for item in schema[key]]
    return schema


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The document's schema for this answer (the success schema where the document gives
    none for the status, e.g. a 201), relaxed as the module's doc says."""
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    for code in (str(status), "200", "201"):
        content = (responses.get(code) or {}).get("content", {}).get("application/json")
        if content and content.get("schema"):
            schema = _relaxed(_resolve(content["schema"]))
            if schema.get("type") and "array" in schema["type"]:
                return {"anyOf": [schema, schema["items"]]}  # one subscription (SPEC 3)
            return {"anyOf": [schema, {"type": "array", "items": schema}]}  # searches
    return None


def request_schema(method: str, path: str) -> dict | None:
    body = DOCUMENT["paths"][path][method.lower()].get("requestBody")
    if not body:
        return None
    return _resolve(body["content"]["application/json"]["schema"])


# --- the fixture world --------------------------------------------------------------------


@pytest.fixture
def world(company) -> World:
    custom_field_create(company=company, name="first_name", data_type="string")
    company.refresh_from_db()
    person = PersonFactory(
        company=company,
        external_person_id="crm-1",
        mdn="+16125550100",
        timezone="America/Chicago",
        custom_fields={"first_name": "Ann"},
    )
    subscription_list = SubscriptionListFactory(company=company, name="Main")
    SubscriptionFactory(person=person, subscription_list=subscription_list)
    campaign = AcquisitionCampaignFactory(company=company, lists=[subscription_list])
    broadcast = Broadcast.objects.create(
        company=company,
        name="Scheduled",
        send_scheduled_date="2030-01-01T12:00:00Z",
        message_template="Hello",
        filters=[],
    )
    broadcast.source_lists.set([subscription_list])
    registration = CallbackRegistrationFactory(company=company, callback_type="person_added")
    pool = incentive_pool_create(company=company, name="Coupons")
    incentive_codes_load(pool=pool, codes=["SPRING-0001", "SPRING-0002"])
    issuee = issuee_resolve(company=company, external_issuee_id="crm-1")
    code = incentive_issue(pool=pool, issuee=issuee)[0].code.code
    return World(
        company.key, person, subscription_list, campaign, broadcast, registration, pool, code
    )


def _url(path: str, world: World) -> str:
    values = world.path_parameters()
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


# --- the proof ------------------------------------------------------------------------------


def test_every_operation_is_tested_out_of_scope_or_pending():
    tested, out, pending = set(CALLS), set(OUT_OF_SCOPE), set(PENDING_FEATURE_OPERATIONS)
    assert len(pending) == len(PENDING_FEATURE_OPERATIONS)
    assert not (tested & out) and not (tested & pending) and not (out & pending)
    assert tested | out | pending == document_operations()


def test_pending_operations_are_only_wallet_and_incentive_operations():
    for _, path in PENDING_FEATURE_OPERATIONS:
        assert re.match(r"^/companies/\{company_key\}/(campaigns/wallet|incentives)\b", path)


def test_the_readme_states_the_operation_counts():
    counts = operation_counts()
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    sentence = (
        f"{counts['tested']} operations are tested, {counts['out of scope']} are out of "
        f"scope and {counts['pending']} are pending"
    )
    print(f"platform OpenAPI operations: {counts}")
    assert sentence in " ".join(readme.split()), sentence


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(CALLS), ids=lambda v: v)
def test_operation_answers_as_the_document_says(api, world, method, path):
    call = CALLS[(method, path)]
    body = call.body(world) if call.body else None
    schema = request_schema(method, path)
    if body is not None:
        assert schema is not None, "the document takes no body here"
        jsonschema.validate(body, schema)  # the body is one the document describes
    url = _url(path, world)
    if call.query:
        url += "?" + "&".join(f"{key}={value}" for key, value in call.query.items())
    response = api.request(method.lower(), url, body)
    assert response.status_code == call.status, response.content
    expected = response_schema(method, path, response.status_code)
    if expected is not None and response.content:
        jsonschema.validate(response.json(), expected)
