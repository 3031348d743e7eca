"""The remembered-credential path (user, company and membership in one query) keeps
every rule of the slow path: tenant 404s, revocations seen on the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from tests.conftest import APIClient, error_codes
from tests.factories import CompanyFactory, MembershipFactory, UserFactory
from vibesweb.errors import ErrorCode
from vibesweb.tenancy.models import Membership

pytestmark = pytest.mark.django_db


def remembered(api: APIClient) -> APIClient:
    assert api.get("/companies/ACME").status_code == 200  # verified once, then remembered
    return api


def test_another_companys_key_answers_404_once_the_credential_is_remembered(api):
    CompanyFactory(key="OTHER")
    response = remembered(api).get("/companies/OTHER/mobiledb/persons")
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_an_unknown_company_key_answers_404_once_the_credential_is_remembered(api):
    assert remembered(api).get("/companies/NOPE/mobiledb/persons").status_code == 404


def test_a_removed_membership_answers_404_on_the_next_request(api, api_user, company):
    remembered(api)
    Membership.objects.filter(user=api_user, company=company).delete()
    assert api.get("/companies/ACME/mobiledb/persons").status_code == 404


def test_a_deactivated_user_answers_401_on_the_next_request(api, api_user):
    remembered(api)
    api_user.is_active = False
    api_user.save()
    response = api.get("/companies/ACME/mobiledb/persons")
    assert response.status_code == 401
    assert error_codes(response) == [ErrorCode.INVALID_CREDENTIALS]


def test_a_password_change_answers_401_on_the_next_company_request(api, api_user):
    remembered(api)
    api_user.set_password("another-password")
    api_user.save()
    assert api.get("/companies/ACME/mobiledb/persons").status_code == 401


def test_a_superuser_reaches_any_company_on_the_remembered_path(company):
    CompanyFactory(key="OTHER")
    admin = UserFactory(username="root-api", is_superuser=True, is_staff=True)
    api = APIClient(admin.username)
    assert api.get("/companies/ACME").status_code == 200
    assert api.get("/companies/OTHER/mobiledb/persons").status_code == 200


def test_membership_of_one_company_does_not_reach_another(company):
    CompanyFactory(key="OTHER")
    user = MembershipFactory(company=company, user=UserFactory(username="one-api")).user
    api = remembered(APIClient(user.username))
    assert api.get("/companies/ACME/mobiledb/persons").status_code == 200
    assert api.get("/companies/OTHER/mobiledb/persons").status_code == 404


class CountingMD5Hasher(MD5PasswordHasher):
    """The test hasher, counting how often a password is checked."""

    checks = 0

    def verify(self, password, encoded):
        CountingMD5Hasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def counted_checks(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingMD5Hasher"]
    CountingMD5Hasher.checks = 0
    return CountingMD5Hasher


def test_a_credential_is_checked_once_then_remembered(api, counted_checks):
    for _ in range(3):
        assert api.get("/companies/ACME/mobiledb/persons").status_code == 200
    assert counted_checks.checks == 1


def test_a_credential_is_checked_again_once_the_memory_expires(api, counted_checks, settings):
    settings.API_AUTH_CACHE_SECONDS = 0
    for _ in range(2):
        assert api.get("/companies/ACME/mobiledb/persons").status_code == 200
    assert counted_checks.checks == 2


def test_another_password_of_a_remembered_user_is_checked_and_refused(api, api_user):
    remembered(api)
    response = APIClient(api_user.username, password="not-the-password").get(
        "/companies/ACME/mobiledb/persons"
    )
    assert response.status_code == 401


def test_a_renamed_user_s_old_credential_answers_401(api, api_user):
    remembered(api)
    api_user.username = "acme-renamed"
    api_user.save()
    assert api.get("/companies/ACME/mobiledb/persons").status_code == 401
    renamed = APIClient("acme-renamed")
    assert renamed.get("/companies/ACME/mobiledb/persons").status_code == 200
