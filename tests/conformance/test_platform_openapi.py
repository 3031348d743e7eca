"""Conformance with the platform's published OpenAPI document (SPEC section 12, issue 13).

`vibes-platform-openapi.json` beside this module is a copy of
`reference/vibes-platform-openapi.json`. Every operation it lists is here exactly once:
called as written (its path, trailing slash included, its method, a body its request
schema accepts, fixture objects for its path parameters) and its answer validated against
the document's response schema; or listed as out of scope, with SPEC 12's reason.

The document is validated with these relaxations, each a rule of SPEC 12 or SPEC 3:
- identifiers (`id`, `*_id`) may be strings or integers (the document writes both);
- an absent value may be null (the document types most fields without `nullable`);
- custom field values are typed (the document writes them as strings);
- a search answers a plain array of what the document gives as one object, and one
  subscription is answered as an object where the document gives an array (SPEC 3);
- a wallet item's `google_wallet.messages` is a list of `{header, body}` (SPEC 10).
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
from wallet.models import WalletLocation
from wallet.pass_templates import GOOGLE_WALLET, PASSBOOK
from wallet.services.campaigns import wallet_campaign_create
from wallet.services.items import wallet_item_open
from wallet.services.location_selector import wallet_location_selector_create
from wallet.services.locations import wallet_locations_add
from wallet.services.messages import wallet_message_create
from wallet.services.templates import wallet_template_create

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
    wallet_campaign: object = None
    wallet_item: object = None
    wallet_message: object = None
    wallet_location: object = None

    def path_parameters(self) -> dict[str, str]:
        return {
            "company_key": self.company_key,
            "person_key": str(self.person.person_key),
            "external_person_id": self.person.external_person_id,
            "subscription_list_id": str(self.subscription_list.pk),
            "acquisition_id": str(self.campaign.pk),
            "broadcast_id": str(self.broadcast.pk),
            "callback_id": str(self.registration.callback_id),
            "wallet_id": self.wallet_campaign.wallet_id,
            "token": self.wallet_campaign.wallet_id,  # the document's other name for it
            "id": str(self.wallet_location.pk),
            "wallet_item_id": self.wallet_item.uuid,
            "wallet_message_id": str(self.wallet_message.wallet_message_id),
            "incentive_pool_id": str(self.pool.pk),
            "issuance_pool_id": str(self.pool.pk),
            "incentive_code": self.code,
        }


@dataclass
class Call:
    """How an operation is called: its body (from the world), query and headers; the
    status; and what must exist first (`given`, e.g. the template a GET reads)."""

    body: Callable[[World], dict] | None = None
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    given: Callable[[World], object] | None = None


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


# The document's request examples (iosTemplateRequest, androidTemplateRequest,
# locationSelectorRequest, walletLocationsBulkRequest).
def _example(name: str) -> Callable[[World], dict]:
    return lambda world: copy.deepcopy(DOCUMENT["components"]["schemas"][name]["example"])


def _passbook_template(world: World) -> None:
    wallet_template_create(
        campaign=world.wallet_campaign, kind=PASSBOOK, body=_example("iosTemplateRequest")(world)
    )


def _google_template(world: World) -> None:
    wallet_template_create(
        campaign=world.wallet_campaign,
        kind=GOOGLE_WALLET,
        body=_example("androidTemplateRequest")(world),
    )


def _location_selector(world: World) -> None:
    wallet_location_selector_create(
        campaign=world.wallet_campaign, body=_example("locationSelectorRequest")(world)
    )


WALLET = f"{COMPANY}/campaigns/wallet/{{token}}"

CALLS: dict[tuple[str, str], Call] = {
    # The platform's templates, stores and location selector: answers without envelope
    ("GET", f"{WALLET}/passbook_template"): Call(given=_passbook_template),
    ("POST", f"{WALLET}/passbook_template"): Call(body=_example("iosTemplateRequest"), status=201),
    ("PUT", f"{WALLET}/passbook_template"): Call(
        body=_example("iosTemplateRequest"), given=_passbook_template
    ),
    ("GET", f"{WALLET}/wallet_template"): Call(given=_google_template),
    ("POST", f"{WALLET}/wallet_template"): Call(
        body=_example("androidTemplateRequest"), status=201
    ),
    ("PUT", f"{WALLET}/wallet_template"): Call(
        body=_example("androidTemplateRequest"), given=_google_template
    ),
    ("GET", f"{WALLET}/location_selector"): Call(given=_location_selector),
    ("POST", f"{WALLET}/location_selector"): Call(
        body=_example("locationSelectorRequest"), status=201
    ),
    ("PUT", f"{WALLET}/location_selector"): Call(
        body=_example("locationSelectorRequest"), given=_location_selector
    ),
    ("DELETE", f"{WALLET}/location_selector"): Call(given=_location_selector, status=204),
    ("GET", f"{WALLET}/locations"): Call(query={"page": "1", "page_size": "10", "zip": "60601"}),
    ("POST", f"{WALLET}/locations/bulk"): Call(
        body=_example("walletLocationsBulkRequest"),
        headers={"HTTP_IDEMPOTENCY_KEY": "import-2026-12-02"},
        status=201,
    ),
    ("DELETE", f"{WALLET}/locations/{{id}}"): Call(status=204),
    ("DELETE", f"{WALLET}/locations/delete_all"): Call(query={"zip": "60601"}),
    # SPEC 10: the POST answers 201 with {"campaign": {...}}
    ("GET", f"{COMPANY}/campaigns/wallet"): Call(),
    ("POST", f"{COMPANY}/campaigns/wallet"): Call(
        body=lambda world: {
            "campaign": {
                "name": "Spring Sale",
                "type": "offer",
                "expiration_date": "2030-06-30T23:59:59Z",
            }
        },
        status=201,
    ),  # fmt: skip
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}"): Call(),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{wallet_id}}"): Call(
        body=lambda world: {"campaign": {"name": "Rewards+", "type": "loyalty"}}
    ),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items"): Call(query={"group_code": "vip"}),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items/{{wallet_item_id}}"): Call(),
    ("PUT", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/items/{{wallet_item_id}}"): Call(
        body=lambda world: {
            "tokens": {"first_name": "Anna"},
            "locations": [{"latitude": 44.98, "longitude": -93.27, "relevant_text": "Hi"}],
            "passbook": {"notification": "Double points"},
            "google_wallet": {"messages": {"header": "News", "body": "Double points"}},
        }
    ),
    ("POST", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages"): Call(
        body=lambda world: {
            "message": {"header": "Reminder", "template": "Hi {{first_name}}"},
            "filters": [{"name": "group_code", "selector": "=", "value": "vip"}],
        }
    ),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages"): Call(),
    ("GET", f"{COMPANY}/campaigns/wallet/{{wallet_id}}/messages/{{wallet_message_id}}"): Call(),
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
    return {"tested": len(CALLS), "out of scope": len(OUT_OF_SCOPE)}


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
    if name == "messages" and schema.get("type") == "object":
        # SPEC 10: an item's google_wallet.messages is a list of {header, body} (an
        # object is accepted on write)
        return {"anyOf": [_relaxed(schema), {"type": "array", "items": _relaxed(schema)}]}
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
    wallet_campaign = wallet_campaign_create(
        company=company, fields={"name": "Rewards", "type": "loyalty"}
    )
    wallet_item, _ = wallet_item_open(
        campaign=wallet_campaign,
        wallet_item_id="item-1",
        tokens={"first_name": "Ann", "group_code": "vip"},
    )
    wallet_message = wallet_message_create(
        campaign=wallet_campaign, body={"message": {"template": "Hello {{first_name}}"}}
    )
    wallet_location = wallet_locations_add(
        campaign=wallet_campaign,
        body={
            "locations": [{"name": "Uptown", "zip": "55408", "latitude": 44.95, "longitude": -93.3}]
        },
        idempotency_key="world",
    )[0]
    pool = incentive_pool_create(company=company, name="Coupons")
    incentive_codes_load(pool=pool, codes=["SPRING-0001", "SPRING-0002"])
    issuee = issuee_resolve(company=company, external_issuee_id="crm-1")
    code = incentive_issue(pool=pool, issuee=issuee)[0].code.code
    return World(
        company.key, person, subscription_list, campaign, broadcast, registration, pool, code,
        wallet_campaign, wallet_item, wallet_message,
        WalletLocation.objects.get(pk=wallet_location["id"]),
    )  # fmt: skip


def _url(path: str, world: World) -> str:
    values = world.path_parameters()
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


# --- the proof ------------------------------------------------------------------------------


def test_every_operation_is_tested_or_out_of_scope():
    tested, out = set(CALLS), set(OUT_OF_SCOPE)
    assert not tested & out
    assert tested | out == document_operations()


def test_the_readme_states_the_operation_counts():
    counts = operation_counts()
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    sentence = (
        f"{counts['tested']} operations are tested and {counts['out of scope']} are out of scope"
    )
    print(f"platform OpenAPI operations: {counts}")
    assert sentence in " ".join(readme.split()), sentence


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(CALLS), ids=lambda v: v)
def test_operation_answers_as_the_document_says(api, world, method, path):
    call = CALLS[(method, path)]
    if call.given:
        call.given(world)
    body = call.body(world) if call.body else None
    schema = request_schema(method, path)
    if body is not None:
        assert schema is not None, "the document takes no body here"
        jsonschema.validate(body, schema)  # the body is one the document describes
    url = _url(path, world)
    if call.query:
        url += "?" + "&".join(f"{key}={value}" for key, value in call.query.items())
    response = api.request(method.lower(), url, body, **call.headers)
    assert response.status_code == call.status, response.content
    expected = response_schema(method, path, response.status_code)
    if expected is not None and response.content:
        jsonschema.validate(response.json(), expected)
