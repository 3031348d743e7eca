"""A body sent with `Transfer-Encoding: chunked` is refused with 411, never silently
read as empty and answered 200 (issue 16, Low 6), over a real HTTP connection."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

import pytest

from mobiledb.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_chunked_body_answers_411_and_changes_nothing(live_server, api_user):
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    token = base64.b64encode(b"acme-api:pw").decode()
    body = json.dumps({"mobile_phone": {"mdn": "2995551234"}}).encode()
    connection.putrequest("POST", "/companies/ACME/mobiledb/persons")
    connection.putheader("Authorization", f"Basic {token}")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    assert response.status == 411
    assert payload["errors"][0]["code"] == 105
    assert not Person.objects.exists()
