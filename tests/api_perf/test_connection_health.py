"""A persistent PostgreSQL connection that the server ended is replaced before the next
request uses it, a healthy one is checked without a round trip, and the hot path's
statements are prepared once per connection (vibesweb.postgresql).

Requests go through Django's WSGI handler, which runs the per-request connection upkeep
(`close_old_connections`) that the test client switches off.
"""

from __future__ import annotations

import base64
import io
import sys

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections

from mobiledb.persons.models import Person
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's backend (SQLite has no server)"
)


@pytest.fixture
def persistent(transactional_db):
    """Connections kept across requests with health checks on, as in production."""
    saved = {k: connection.settings_dict[k] for k in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    connection.close()
    yield
    connection.close()
    connection.settings_dict.update(saved)


@pytest.fixture
def person(persistent):
    company = CompanyFactory(key="LIVE", name="Live")
    MembershipFactory(company=company, user=UserFactory(username="live-api"))
    return Person.objects.create(company=company, mdn="+16125550100")


def get(path: str) -> int:
    """GET `path` through the WSGI handler with the API user's Basic credential."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"live-api:pw").decode(),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status = []
    response = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(response)
    response.close()
    return int(status[0].split()[0])


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    """End the backend from another session and wait until it is gone."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            admin.execute("SELECT pg_sleep(0.05)")


def test_the_request_after_the_server_ended_the_connection_succeeds(person, monkeypatch):
    path = f"/companies/LIVE/mobiledb/persons/{person.pk}"
    assert get(path) == 200
    ended = backend_pid()
    terminate(ended)

    assert get(path) == 200
    assert backend_pid() != ended  # a new connection answered


def test_a_healthy_connection_is_checked_without_a_statement(person, monkeypatch):
    path = f"/companies/LIVE/mobiledb/persons/{person.pk}"
    assert get(path) == 200
    selects = []
    monkeypatch.setattr(connections["default"], "is_usable", lambda: selects.append(1) or True)

    assert get(path) == 200
    assert get(path) == 200
    assert selects == []  # no `SELECT 1` round trip per request


def test_after_the_server_ended_the_connection_the_check_confirms_with_a_statement(
    person, monkeypatch
):
    path = f"/companies/LIVE/mobiledb/persons/{person.pk}"
    assert get(path) == 200
    is_usable = connections["default"].is_usable
    checked = []
    monkeypatch.setattr(
        connections["default"], "is_usable", lambda: checked.append(1) or is_usable()
    )
    terminate(backend_pid())

    assert get(path) == 200
    assert checked == [1]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time")
        return [row[0] for row in cursor.fetchall()]


def test_the_hot_path_statements_are_prepared_once_per_connection(person):
    path = f"/companies/LIVE/mobiledb/persons/{person.pk}"
    assert get(path) == 200  # the credential's first request (then it is remembered)
    assert get(path) == 200
    prepared = prepared_statements()
    assert any('FROM "auth_user" u LEFT JOIN "tenancy_company" c' in sql for sql in prepared)
    assert any('FROM "mobiledb_person" WHERE' in sql for sql in prepared)

    assert get(path) == 200
    assert prepared_statements() == prepared  # the same statements, not prepared again
