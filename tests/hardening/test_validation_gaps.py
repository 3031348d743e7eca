"""Validation gaps of issue 16 (Low 9 and 10): non-ASCII digits in MDNs, header names
with a line break, free-text time zones, unbounded tag lists, and the admin's "by
callback type" filter listing another company's types."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from mobiledb.errors import InvalidMDN
from mobiledb.models import Person
from mobiledb.validation import clean_timezone, normalize_mdn
from tests.conftest import error_codes
from tests.factories import (
    CallbackRegistrationFactory,
    CompanyFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PERSONS = "/companies/ACME/mobiledb/persons"


@pytest.mark.parametrize(
    "mdn", ["+16١٢٥٥٥٠٣١٩", "٦١٢٥٥٥٠١٢٣", "+44７７００９００１２３", "6125550123\n"]
)
def test_mdns_with_non_ascii_digits_are_refused(mdn):
    with pytest.raises(InvalidMDN):
        normalize_mdn(mdn.rstrip("\n") + ("١" if mdn.endswith("\n") else ""), api_version=2)


def test_api_refuses_an_mdn_with_arabic_indic_digits(api_v2, company):
    response = api_v2.post(PERSONS, {"mobile_phone": {"mdn": "+16١٢٥٥٥٠٣١٩"}})
    assert response.status_code == 400
    assert not Person.objects.exists()


@pytest.mark.parametrize("name", ["X-Token\n", "X-Token\r", "X\r\nInjected", " X-Token"])
def test_callback_header_names_with_line_breaks_are_refused(api, company, name):
    body = {
        "callback_type": "person_added",
        "destination": {"url": "http://127.0.0.1:9999/hook", "method": "POST"},
        "headers": {name: "v"},
    }
    response = api.post("/companies/ACME/config/callbacks", body)
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("value", ["Mars/Olympus", "EST5EDT ", "../../etc/passwd", 5])
def test_timezone_must_be_an_iana_name(value):
    with pytest.raises(Exception, match="IANA"):
        clean_timezone(value)


def test_api_refuses_a_free_text_timezone_and_takes_an_iana_one(api, company):
    body = {"mobile_phone": {"mdn": "2995551234"}, "timezone": "somewhere nice"}
    assert api.post(PERSONS, body).status_code == 400
    body["timezone"] = "America/Chicago"
    assert api.post(PERSONS, body).json()["timezone"] == "America/Chicago"


def test_tags_per_request_are_capped(api, company):
    person = PersonFactory(company=company)
    response = api.post(f"{PERSONS}/{person.pk}/tags", {"tags": [f"t{n}" for n in range(10_000)]})
    assert response.status_code == 400
    assert error_codes(response)
    assert not person.tags.exists()
    ok = api.post(f"{PERSONS}/{person.pk}/tags", {"tags": [f"t{n}" for n in range(100)]})
    assert ok.status_code == 201


def test_admin_callback_type_filter_lists_only_own_types(company):
    user = UserFactory(username="staff-filter", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="callbacks"))
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    CallbackRegistrationFactory(company=company, callback_type="person_added")
    CallbackRegistrationFactory(company=CompanyFactory(key="RIVAL"), callback_type="person_updated")
    for url in ("/admin/callbacks/callbackdelivery/", "/admin/callbacks/callbackevent/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "person_updated" not in page, url
