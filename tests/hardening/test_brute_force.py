"""Failed password checks are throttled per username+address and, looser, per address,
for the API (429 + Retry-After, the password not even checked) and the admin login (a
lockout notice); a real integrator elsewhere is never locked out (issue 16, Medium 4)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.conftest import error_codes
from tests.factories import MembershipFactory, UserFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db
URL = "/companies/ACME"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME_ADDRESS = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 6


def call(username: str, password: str, address: str = "203.0.113.7"):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Client().get(URL, HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=address)


def test_wrong_passwords_past_the_limit_answer_429_even_with_the_right_one(api_user):
    for _ in range(3):
        assert call("acme-api", "wrong").status_code == 401
    response = call("acme-api", "pw")
    assert response.status_code == 429
    assert error_codes(response) == [int(ErrorCode.RATE_LIMITED)]
    assert 1 <= int(response["Retry-After"]) <= 900


def test_the_integrator_elsewhere_is_not_locked_out(api_user):
    for _ in range(5):
        call("acme-api", "wrong", address="198.51.100.66")  # the attacker
    assert call("acme-api", "pw", address="203.0.113.7").status_code == 200


def test_an_address_trying_many_usernames_is_throttled(api_user):
    for n in range(6):
        call(f"guess{n}", "wrong", address="198.51.100.66")
    assert call("acme-api", "pw", address="198.51.100.66").status_code == 429
    assert call("acme-api", "pw", address="203.0.113.7").status_code == 200


def test_a_verified_credential_keeps_working_from_a_throttled_address(api_user):
    assert call("acme-api", "pw", address="198.51.100.66").status_code == 200  # cached
    for n in range(6):
        call(f"guess{n}", "wrong", address="198.51.100.66")
    assert call("acme-api", "pw", address="198.51.100.66").status_code == 200


def test_a_right_password_clears_the_pair_count(api_user):
    for _ in range(2):
        call("acme-api", "wrong")
    assert call("acme-api", "pw").status_code == 200
    for _ in range(2):
        call("acme-api", "wrong")
    assert call("acme-api", "wrong").status_code == 401  # third failure: still answered


def test_admin_login_shows_a_lockout_notice(company):
    user = UserFactory(username="marketer", is_staff=True)
    MembershipFactory(user=user, company=company)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        page = client.post("/admin/login/", {"username": "marketer", "password": "nope"})
        assert "Too many failed logins" not in page.content.decode()
    page = client.post("/admin/login/?next=/admin/", {"username": "marketer", "password": "pw"})
    assert page.status_code == 200
    assert "Too many failed logins from your address" in page.content.decode()
    assert "_auth_user_id" not in client.session
    other = Client(REMOTE_ADDR="192.0.2.1")
    response = other.post("/admin/login/?next=/admin/", {"username": "marketer", "password": "pw"})
    assert response.status_code == 302


def test_a_renamed_users_old_name_stops_working_at_once(api_user, company):
    assert call("acme-api", "pw").status_code == 200  # verified and cached
    api_user.username = "acme-api-renamed"
    api_user.save()
    assert call("acme-api", "pw").status_code == 401
    newcomer = UserFactory(username="acme-api")  # someone else takes the old name
    MembershipFactory(user=newcomer, company=company)
    newcomer.set_password("other")
    newcomer.save()
    assert call("acme-api", "pw").status_code == 401
    assert call("acme-api-renamed", "pw").status_code == 200
