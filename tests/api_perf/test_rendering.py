"""The orjson renderer writes the bytes DRF's JSONRenderer writes; the fast content
negotiation picks what DRF's would; API paths skip the pages' message store."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from vibesweb.api.negotiation import FastContentNegotiation
from vibesweb.api.renderers import FastJSONRenderer

UTC = dt.UTC
BODIES = [
    {"status": "ok"},
    [],
    {"person_id": 12, "person_key": uuid.UUID("891fe250-d93f-4391-8557-55b483016eda")},
    {"created_at": dt.datetime(2026, 12, 2, 3, 4, 5, 123456, tzinfo=UTC)},
    {"created_at": dt.datetime(2026, 12, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-6)))},
    {"naive": dt.datetime(2026, 1, 1, 0, 0), "day": dt.date(2026, 1, 2), "at": dt.time(4, 5, 6)},
    {"price": Decimal("12.25"), "ratio": 0.1, "whole": 100.0, "big": 2**62, "neg": -7},
    {"name": "Zoë 漢字 😀", "sep": "a\u2028b\u2029c", "quote": 'say "hi"\n\t\\'},
    {"lazy": gettext_lazy("Not found."), "safe": mark_safe("<b>x</b>")},
    {1: "int key", "nested": {"list": [1, None, True, False, {"a": []}]}},
    {"huge": 2**70},
    {"errors": [{"message": "X-API-Version must be 1 or 2", "code": 1003}]},
]


@pytest.mark.parametrize("body", BODIES)
def test_orjson_rendering_is_drfs_byte_for_byte(body):
    assert FastJSONRenderer().render(body) == JSONRenderer().render(body)


def test_indented_output_is_drfs():
    body = {"a": [1, 2]}
    media_type = "application/json; indent=4"
    assert FastJSONRenderer().render(body, media_type, {}) == JSONRenderer().render(
        body, media_type, {}
    )


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json; indent=2", "text/html, */*;q=0.8"],
)
def test_negotiation_picks_what_drf_picks(accept):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    request = Request(RequestFactory().get("/heartbeat", **headers))
    renderers = [FastJSONRenderer()]
    fast = FastContentNegotiation().select_renderer(request, renderers)
    slow = DefaultContentNegotiation().select_renderer(request, renderers)
    assert (type(fast[0]), fast[1]) == (type(slow[0]), slow[1])


def test_an_unacceptable_type_still_answers_406_with_the_errors_body(api):
    response = api.get("/companies/ACME", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert set(response.json()) == {"errors"}


def test_api_requests_do_not_set_up_the_message_store(api):
    response = api.get("/companies/ACME")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "_messages")


def test_admin_pages_still_have_their_messages(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "_messages")
