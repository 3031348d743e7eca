"""Platform conventions applied to every endpoint: auth, scoping, versions, errors body."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import APIClient, error_codes, errors_of
from tests.factories import CompanyFactory, MembershipFactory, PersonFactory
from vibesweb.api import throttling
from vibesweb.api.views import VersionedAPIView
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db


def test_heartbeat_answers_without_credentials():
    response = APIClient().get("/heartbeat")
    assert response.status_code == 200
    assert response["X-API-Version"] == "1"


@pytest.mark.parametrize("path", ["/companies/ACME/heartbeat", "/companies/ACME/heartbeat/"])
def test_company_heartbeat_needs_membership(api, path):
    assert api.get(path).status_code == 200
    outsider = MembershipFactory(company=CompanyFactory(key="OUTSIDE")).user
    response = APIClient(outsider.username).get(path)
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_missing_credentials_answer_401_with_errors_body_and_challenge(company):
    response = APIClient().get("/companies/ACME/mobiledb/persons")
    assert response.status_code == 401
    assert error_codes(response) == [ErrorCode.NOT_AUTHENTICATED]
    assert response["WWW-Authenticate"].startswith("Basic")


def test_wrong_password_answers_401(api_user):
    response = APIClient(api_user.username, password="wrong").get("/companies/ACME")
    assert response.status_code == 401
    assert error_codes(response) == [ErrorCode.INVALID_CREDENTIALS]


def test_password_change_revokes_a_remembered_credential(api, api_user):
    assert api.get("/companies/ACME").status_code == 200
    api_user.set_password("new-password")
    api_user.save()
    assert api.get("/companies/ACME").status_code == 401


def test_another_companys_key_answers_404_not_its_data(api):
    CompanyFactory(key="OTHER")
    response = api.get("/companies/OTHER/mobiledb/persons")
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_another_companys_person_answers_404(api):
    stranger = PersonFactory(company=CompanyFactory(key="OTHER"))
    assert api.get(f"/companies/ACME/mobiledb/persons/{stranger.pk}").status_code == 404


def test_companies_lists_only_member_companies(api):
    CompanyFactory(key="OTHER")
    response = api.get("/companies")
    assert [c["company_key"] for c in response.json()] == ["ACME"]


@pytest.mark.parametrize("version", ["3", "0", "abc", "1.0"])
def test_unknown_api_version_answers_400(api, version):
    response = api.get("/companies/ACME", HTTP_X_API_VERSION=version)
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_API_VERSION]


def test_responses_carry_the_api_version(api):
    assert api.get("/companies/ACME", HTTP_X_API_VERSION="2")["X-API-Version"] == "2"
    assert api.get("/companies/ACME")["X-API-Version"] == "1"


def test_unknown_path_answers_404_errors_body(api):
    response = api.get("/companies/ACME/no/such/thing")
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_wrong_method_answers_405_errors_body(api):
    response = api.delete("/companies/ACME/mobiledb/persons")
    assert response.status_code == 405
    assert error_codes(response) == [ErrorCode.METHOD_NOT_ALLOWED]


def test_malformed_json_answers_400(api):
    response = api.post("/companies/ACME/mobiledb/persons", raw="{not json")
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.MALFORMED_BODY]


@pytest.mark.parametrize("raw", ["[1, 2]", '"a string"', "42", "null"])
def test_body_that_is_not_an_object_answers_400(api, raw):
    response = api.post("/companies/ACME/mobiledb/persons", raw=raw)
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.BODY_NOT_OBJECT]


def test_wrong_content_type_answers_415(api):
    response = api.post("/companies/ACME/mobiledb/persons", raw="a=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_codes(response) == [ErrorCode.UNSUPPORTED_MEDIA_TYPE]


def test_text_json_is_accepted(api):
    response = api.post(
        "/companies/ACME/mobiledb/persons",
        raw='{"external_person_id": "X1"}',
        content_type="text/json",
    )
    assert response.status_code == 201


def test_oversized_body_answers_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/companies/ACME/mobiledb/persons", {"external_person_id": "x" * 2000})
    assert response.status_code == 413
    assert error_codes(response) == [ErrorCode.BODY_TOO_LARGE]


def test_rate_limit_answers_429_with_retry_after(api, settings, monkeypatch):
    """The fourth request in one second is refused with Retry-After; the clock is held
    inside one window, so a slow machine cannot turn the window over mid-test."""
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "company": 3}
    monkeypatch.setattr(throttling.time, "time", lambda: 1_900_000_000.25)
    statuses = [api.get("/companies/ACME").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = api.get("/companies/ACME")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert errors_of(limited)[0]["code"] == ErrorCode.RATE_LIMITED


def test_rate_limit_is_per_company(api, api_user, settings, monkeypatch):
    """Each company has its own counter, and the limiter is on: with the clock held inside
    one window, each company gets exactly its 2 requests, whatever the other spent."""
    MembershipFactory(user=api_user, company=CompanyFactory(key="SECOND"))
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "company": 2}
    monkeypatch.setattr(throttling.time, "time", lambda: 1_900_000_000.25)
    acme = [api.get("/companies/ACME").status_code for _ in range(3)]
    second = [api.get("/companies/SECOND").status_code for _ in range(3)]
    assert acme == [200, 200, 429]
    assert second == [200, 200, 429]
    assert api.get("/companies/ACME").status_code == 429


def test_lists_paginate_with_a_link_header(api, company):
    PersonFactory.create_batch(5, company=company)
    first = api.get("/companies/ACME/mobiledb/persons?limit=2")
    assert isinstance(first.json(), list) and len(first.json()) == 2
    assert 'rel="next"' in first["Link"]
    seen = [p["person_id"] for p in first.json()]
    next_url = first["Link"].split(">")[0].lstrip("<")
    while next_url:
        page = api.get(next_url.replace("http://testserver", ""))
        seen += [p["person_id"] for p in page.json()]
        link = page.get("Link", "")
        next_url = link.split(">")[0].lstrip("<") if 'rel="next"' in link else None
    assert len(seen) == 5 and len(set(seen)) == 5


def test_limit_is_capped_at_1000(api, company):
    PersonFactory.create_batch(3, company=company)
    assert len(api.get("/companies/ACME/mobiledb/persons?limit=5000").json()) == 3


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema")
    assert schema.status_code == 200
    assert b"/companies/{company_key}/mobiledb/persons" in schema.content
    assert client.get("/api/docs").status_code == 200


def _api_views(patterns=None) -> set[type]:
    found: set[type] = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found |= _api_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if view is not None and issubclass(view, VersionedAPIView):
                found.add(view)
    return found


def test_every_api_view_names_the_query_parameters_it_takes():
    """An unknown query parameter answers 400 (code 203) only where a view declares what
    it takes; the features still being built in their own branches may join later."""
    unchecked = {
        f"{view.__module__}.{view.__name__}"
        for view in _api_views()
        if view.query_parameters is None
    }
    assert all("wallet" in name or "incentive" in name for name in unchecked), unchecked


@pytest.mark.parametrize("version", [None, "2", "9"])
def test_an_unknown_route_answers_404_with_the_api_version_header(api, version):
    extra = {"HTTP_X_API_VERSION": version} if version else {}
    response = api.get("/companies/ACME/no/such/thing", **extra)
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]
    assert response["X-API-Version"] == {None: "1", "2": "2", "9": "1"}[version]
    assert api.get("/nowhere")["X-API-Version"] == "1"


def test_the_company_links_index_resources_that_link_their_children(api, company):
    company_body = api.get("/companies/ACME").json()
    links = {k: v for k, v in company_body.items() if k.endswith("_url")}
    assert set(links) == {"mobiledb_url", "campaigns_url", "config_url", "incentives_url"}
    children = {}
    for name, url in links.items():
        response = api.get(url)
        assert response.status_code == 200, (name, response.content)
        assert api.get(url + "/").status_code == 200
        children.update(response.json())
    assert children["persons_url"] == "/companies/ACME/mobiledb/persons"
    assert children["acquisition_url"] == "/companies/ACME/campaigns/acquisition"
    assert children["callbacks_url"] == "/companies/ACME/config/callbacks"
    for child in children.values():
        assert api.get(child).status_code in (200, 405), child  # callback_events/test is POST


def test_an_index_of_another_company_answers_404(api, company):
    CompanyFactory(key="OTHER")
    assert api.get("/companies/OTHER/mobiledb").status_code == 404
