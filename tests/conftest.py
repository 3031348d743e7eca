"""Shared test set-up: a company with a member API user and an authenticated client."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from mobiledb.persons.custom_fields import custom_field_create

from .factories import CompanyFactory, MembershipFactory, UserFactory


class APIClient:
    """Speaks to the API as an integrator would: Basic auth, JSON, X-API-Version."""

    def __init__(self, username: str = "", password: str = "pw", version: int | None = None):
        self.client = Client(raise_request_exception=False)
        self.username = username
        self.password = password
        self.version = version

    def headers(self, extra: dict | None = None) -> dict:
        headers = {}
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {token}"
        if self.version is not None:
            headers["HTTP_X_API_VERSION"] = str(self.version)
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body=None, *, raw: str | None = None, **extra):
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = self.headers(extra)
        if payload is not None:
            kwargs.setdefault("content_type", "application/json")
            return getattr(self.client, method)(path, data=payload, **kwargs)
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path, **extra):
        return self.request("get", path, **extra)

    def post(self, path, body=None, **extra):
        return self.request("post", path, body, **extra)

    def put(self, path, body=None, **extra):
        return self.request("put", path, body, **extra)

    def delete(self, path, **extra):
        return self.request("delete", path, **extra)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _root_logger_as_configured():
    """Put the root logger's level back after each test: an in-process Celery worker
    (`celery.contrib.testing.worker.start_worker`) sets it to ERROR, and every later test
    of that process then captured no INFO record (`caplog.text` empty: which tests failed
    depended on how xdist spread them). The handlers are pytest's to manage."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.fixture
def company(db):
    return CompanyFactory(key="ACME", name="Acme")


@pytest.fixture
def api_user(company):
    return MembershipFactory(company=company, user=UserFactory(username="acme-api")).user


@pytest.fixture
def api(api_user) -> APIClient:
    """An API client for `company` with X-API-Version 1 (the default)."""
    return APIClient(api_user.username)


@pytest.fixture
def api_v2(api_user) -> APIClient:
    return APIClient(api_user.username, version=2)


@pytest.fixture
def standard_fields(company):
    """first_name (string), points (integer), tier (single select), interests (multi)."""
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="points", data_type="integer")
    custom_field_create(
        company=company,
        name="tier",
        data_type="single_select",
        options=[("gold", "Gold"), ("silver", "Silver")],
    )
    custom_field_create(
        company=company,
        name="interests",
        data_type="multi_select",
        options=[("shoes", "Shoes"), ("bags", "Bags")],
    )
    company.refresh_from_db()
    return company


def errors_of(response) -> list[dict]:
    body = response.json()
    assert set(body) == {"errors"}, body
    return body["errors"]


def error_codes(response) -> list[int]:
    return [entry["code"] for entry in errors_of(response)]


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup, django_db_blocker):
    """Threads of race and live-server tests may leave PostgreSQL sessions open; end them
    so the test database can be dropped at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    except OperationalError:
        # No test of the run used a database, so none was created (pytest-django skips
        # it), and the configured one need not exist: there are no sessions to end.
        pass
