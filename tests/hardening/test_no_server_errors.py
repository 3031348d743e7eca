"""Every hostile value the probe answered 500 is a 4XX now (issue 16, Low 7), and the
class behind each is closed: ids are parsed in one place (vibesweb.inputs.parse_id),
cursors are checked before the query, datetimes out of range are invalid values."""

from __future__ import annotations

import base64
import itertools

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.conftest import error_codes
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from vibesweb.inputs import parse_id

pytestmark = pytest.mark.django_db
BASE = "/companies/ACME"
_ids = itertools.count(1)


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1e3", " 1", "1" * 19, "", None, True])
def test_parse_id_takes_only_ascii_digits(value):
    assert parse_id(value) is None


def test_parse_id_takes_digits():
    assert parse_id("0012") == 12 and parse_id(7) == 7


def test_broadcast_path_with_a_superscript_answers_404(api, company):
    response = api.get(f"{BASE}/mobiledb/broadcasts/%C2%B2")
    assert response.status_code == 404
    assert error_codes(response) == [120]


def test_callback_scope_list_id_superscript_answers_400(api, company):
    body = {
        "callback_type": "subscription_added",
        "destination": {"url": "http://127.0.0.1:9999/hook", "method": "POST"},
        "subscription_added": {"list_id": "²"},
    }
    response = api.post(f"{BASE}/config/callbacks", body)
    assert response.status_code == 400, response.content


def test_forged_cursor_answers_400_not_500(api, company):
    PersonFactory(company=company)
    cursor = base64.b64encode(b"p=abc").decode()
    response = api.get(f"{BASE}/mobiledb/persons?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_event_date_past_the_end_of_time_answers_400(api, company):
    body = {
        "event_id": f"evt-{next(_ids)}",
        "event_type": "inbound_message",
        "mdn": "+12295551234",
        "short_code": "12345",
        "message": "STOP",
        "event_date": "9999-12-31T23:59:59-23:59",
    }
    response = api.post(f"{BASE}/events", body)
    assert response.status_code == 400, response.content


@pytest.fixture
def marketer(company):
    user = UserFactory(username="marketer", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    MembershipFactory(user=user, company=company)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/mobiledb/person/?q=%C2%B2",
        "/admin/mobiledb/person/?company=%C2%B2",
        "/admin/mobiledb/person/?list=abc",
        "/admin/mobiledb/person/add/?company=%C2%B2",
        "/admin/mobiledb/personimport/export/?company=abc",
    ],
)
def test_admin_hostile_query_values_answer_below_500(marketer, company, url):
    response = marketer.get(url)
    assert response.status_code < 500, (url, response.status_code)
