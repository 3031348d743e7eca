"""Schemathesis over our whole OpenAPI (`/api/schema`): every operation, examples
generated from the schema (and beyond it: hostile strings, wrong types), sent with
valid Basic auth to the real WSGI application. Fails on any 5XX (issue 16, Proof).

The number of examples per operation is bounded (SCHEMATHESIS_MAX_EXAMPLES, default 8)
so the whole run stays well under two minutes; the figures of the last run are written to
`var/schemathesis-summary.json` and quoted in the README's "Security" section.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from mobiledb.persons.custom_fields import custom_field_create
from tests.factories import MembershipFactory, PersonFactory, SubscriptionListFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
TALLY: Counter = Counter()
SERVER_ERRORS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    summary = {
        "operations": len(list(schema.get_all_operations())),
        "method_path_pairs_tried": len(TALLY),
        "requests": sum(TALLY.values()),
        "server_errors": len(SERVER_ERRORS),
        "max_examples": MAX_EXAMPLES,
    }
    path = Path(django_settings.BASE_DIR) / "var" / "schemathesis-summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1))
    print("\nschemathesis:", json.dumps(summary))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app closes "old" connections when a request ends; as Django's test client
    does, keep the test's connection (and its transaction) open across the requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db):
    """ACME with an API member, a person, a list and custom fields for the cases to hit."""
    from tests.factories import CompanyFactory

    company = CompanyFactory(key="ACME")
    MembershipFactory(company=company, user=UserFactory(username="fuzz-api"))
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="points", data_type="integer")
    PersonFactory(company=company, mdn="+12995551234", external_person_id="EXT1")
    SubscriptionListFactory(company=company)
    return company


AUTH = "Basic " + base64.b64encode(b"fuzz-api:pw").decode()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx(case, seeded):
    if case.path_parameters and "company_key" in case.path_parameters:
        case.path_parameters["company_key"] = "ACME"  # the seeded company: reach the views
    response = case.call(headers={"Authorization": AUTH})
    TALLY[f"{case.method} {case.path}"] += 1
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.text[:500]}\n{case.as_curl_command()}"
    )
