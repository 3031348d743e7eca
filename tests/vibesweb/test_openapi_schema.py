"""Our own `/api/schema` describes the API well enough to validate as OpenAPI 3 and to drive
a client generated from it (issue 13, finding 8)."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from openapi_spec_validator import validate

from tests.factories import CompanyFactory, MembershipFactory, UserFactory

GENERATOR = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_our_schema_validates_as_openapi_3(schema):
    validate(schema)  # raises on any violation of the OpenAPI 3 specification
    assert schema["openapi"].startswith("3.")


def test_our_schema_has_the_product_version_not_the_request_version(schema):
    assert schema["info"]["version"] == settings.PRODUCT_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", schema["info"]["version"])


def _query_parameters(schema: dict, path: str, method: str = "get") -> set[str]:
    operation = schema["paths"][path][method]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_our_schema_documents_person_search_and_pagination(schema):
    persons = "/companies/{company_key}/mobiledb/persons"
    assert {"mdn", "external_person_id", "person_key", "updated_since", "limit", "cursor"} <= (
        _query_parameters(schema, persons)
    )
    lists = "/companies/{company_key}/mobiledb/subscription_lists"
    assert _query_parameters(schema, lists) == {"limit", "cursor"}
    history = "/companies/{company_key}/mobiledb/persons/{person_id}/subscriptions"
    assert _query_parameters(schema, history) == {"active_only", "limit", "cursor"}


def test_every_operation_id_is_unique(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


@pytest.fixture
def generated_client(schema, tmp_path, monkeypatch):
    """The package openapi-python-client generates from our schema, imported."""
    if GENERATOR is None:
        pytest.skip("openapi-python-client is not installed (pip install -e '.[dev]')")
    source = tmp_path / "schema.json"
    source.write_text(json.dumps(schema))
    subprocess.run(
        [GENERATOR, "generate", "--path", str(source), "--output-path", str(tmp_path / "vwc")]
        + ["--meta", "none"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return "vwc"


@pytest.mark.django_db(transaction=True)
def test_a_client_generated_from_our_schema_adds_gets_updates_and_pages_persons(
    generated_client, live_server
):
    company = CompanyFactory(key="GEN")
    MembershipFactory(company=company, user=UserFactory(username="gen-api"))
    package = importlib.import_module(generated_client)
    api = f"{generated_client}.api.companies"
    person_add = importlib.import_module(f"{api}.person_add")
    person_get = importlib.import_module(f"{api}.person_get")
    person_update = importlib.import_module(f"{api}.person_update")
    persons_search = importlib.import_module(f"{api}.persons_search")
    models = importlib.import_module(f"{generated_client}.models")
    client = package.Client(base_url=live_server.url, httpx_args={"auth": ("gen-api", "pw")})

    added = person_add.sync_detailed(
        "GEN",
        client=client,
        body=models.PersonInputRequest(
            external_person_id="gen-1",
            mobile_phone=models.MobilePhoneInputRequest(mdn="6125550101"),
        ),
    )
    assert added.status_code == 201, added.content
    person = added.parsed
    assert person.external_person_id == "gen-1"
    assert person.mobile_phone.mdn == "6125550101"

    fetched = person_get.sync("GEN", str(person.person_id), client=client)
    assert fetched.person_key == person.person_key

    updated = person_update.sync(
        "GEN",
        str(person.person_id),
        client=client,
        body=models.PersonInputRequest(external_person_id="gen-1b"),
    )
    assert updated.external_person_id == "gen-1b"

    for n in range(2, 6):
        person_add.sync(
            "GEN", client=client, body=models.PersonInputRequest(external_person_id=f"gen-{n}")
        )
    seen, cursor, pages = [], None, 0
    while True:
        kwargs = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = persons_search.sync_detailed("GEN", client=client, **kwargs)
        assert page.status_code == 200, page.content
        seen += [p.external_person_id for p in page.parsed]
        pages += 1
        found = re.search(r'<([^>]+)>; rel="next"', page.headers.get("Link", ""))
        if not found:
            break
        cursor = parse_qs(urlparse(found.group(1)).query)["cursor"][0]
    assert pages == 3
    assert seen == ["gen-1b", "gen-2", "gen-3", "gen-4", "gen-5"]

    searched = persons_search.sync("GEN", client=client, mdn="6125550101")
    assert [p.external_person_id for p in searched] == ["gen-1b"]
