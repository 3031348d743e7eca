"""NUL characters and lone surrogates are refused at the edge, on every input path
(issue 16, Medium 1): 400 with the errors body for the API, a form error in the admin,
an error row in the import. Nothing is stored, so no later read can fail."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from mobiledb.models import Person
from tests.conftest import error_codes
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db

PERSONS = "/companies/ACME/mobiledb/persons"
UNSAFE = pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "lone-surrogate"])


def raw_json(value) -> str:
    # ensure_ascii writes a lone surrogate as the escape "\ud800": valid JSON text.
    return json.dumps(value)


@UNSAFE
@pytest.mark.parametrize(
    "body",
    [
        lambda bad: {"mobile_phone": {"mdn": "2995551234"}, "custom_fields": {"first_name": bad}},
        lambda bad: {"mobile_phone": {"mdn": "2995551234"}, "external_person_id": f"x{bad}"},
        lambda bad: {"mobile_phone": {"mdn": "2995551234"}, "custom_fields": {f"k{bad}": "v"}},
        lambda bad: {"a": [[[{"deep": [bad]}]]]},
    ],
    ids=["custom-field", "external-id", "key", "deep"],
)
def test_a_json_body_with_unsafe_text_answers_400_and_stores_nothing(
    api, standard_fields, bad, body
):
    response = api.post(PERSONS, raw=raw_json(body(bad)))
    assert response.status_code == 400
    assert error_codes(response) == [int(ErrorCode.UNSAFE_TEXT)]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        PERSONS + "?external_person_id=a%00b",
        PERSONS + "?a%00=1",
        PERSONS + "/1/tags/a%00b",
        PERSONS + "/external/a%00b",
    ],
)
def test_nul_in_the_path_or_query_answers_400(api, company, path):
    response = api.get(path)
    assert response.status_code == 400
    assert error_codes(response) == [int(ErrorCode.UNSAFE_TEXT)]


def test_nul_in_a_header_answers_400(api, company):
    response = api.get(PERSONS, HTTP_X_CUSTOM="a\x00b")
    assert response.status_code == 400


@pytest.mark.parametrize("username", ["acme\x00api", "acme\udcff"])
def test_unsafe_basic_auth_username_answers_400_without_a_query(company, username):
    token = base64.b64encode(f"{username}:pw".encode("utf-8", "surrogatepass")).decode()
    response = Client().get(PERSONS, HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code in (400, 401)
    assert response.json()["errors"]


def test_nul_in_the_basic_auth_username_answers_400(company):
    token = base64.b64encode(b"acme\x00api:pw").decode()
    response = Client().get(PERSONS, HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 400
    assert error_codes(response) == [int(ErrorCode.UNSAFE_TEXT)]


def test_json_nested_1000_deep_answers_400(api, company):
    response = api.post(PERSONS, raw="[" * 1000 + "]" * 1000)
    assert response.status_code == 400
    assert error_codes(response) == [int(ErrorCode.MALFORMED_BODY)]
    response = api.post(PERSONS, raw="[" * 100000 + "]" * 100000)
    assert response.status_code == 400


@pytest.fixture
def marketer(company):
    user = UserFactory(username="marketer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="mobiledb"))
    MembershipFactory(user=user, company=company)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_admin_form_refuses_nul_as_a_form_error(marketer, standard_fields):
    person = PersonFactory(company=standard_fields)
    url = f"/admin/mobiledb/person/{person.pk}/change/"
    page = marketer.get(url)
    assert page.status_code == 200
    response = marketer.post(
        url,
        {
            "company": standard_fields.pk,
            "mdn": person.mdn,
            "external_person_id": "x\x00y",
            "cf__first_name": "bad\x00name",
            "timezone": "",
        },
    )
    assert response.status_code == 200  # the form again, with its errors
    assert "errornote" in response.content.decode()
    person.refresh_from_db()
    assert "\x00" not in (person.external_person_id or "")


def test_admin_json_field_refuses_a_lone_surrogate(company):
    from django import forms

    from vibesweb.tenancy.scoping import SafeTextFormMixin

    class Form(SafeTextFormMixin, forms.Form):
        scope = forms.JSONField()

    form = Form({"scope": '{"list_id": "\\ud800"}'})
    assert not form.is_valid()
    assert "scope" in form.errors


def test_import_row_with_nul_is_an_error_row(company):
    from mobiledb.imports.parser import FileLayout
    from mobiledb.imports.rows import RowReader
    from mobiledb.validation import CustomFieldSchema
    from vibesweb.inputs import UnsafeText

    reader = RowReader(FileLayout(columns=["mdn", "external_person_id"]), CustomFieldSchema([]))
    with pytest.raises(UnsafeText, match="external_person_id"):
        reader.read(["2995551234", "a\x00b"])
