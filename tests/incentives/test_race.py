"""PostgreSQL races through real HTTP: 50 issuers on a 20-code pool, one issuee at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from campaigns.incentives.loading import incentive_codes_load
from campaigns.incentives.pools import incentive_pool_create
from campaigns.models import IncentiveCode, IncentiveIssuance, IncentiveRedemption
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def race_pool():
    company = CompanyFactory(key="RACE")
    MembershipFactory(company=company, user=UserFactory(username="racer"))
    pool = incentive_pool_create(company=company, name="Race")
    incentive_codes_load(pool=pool, codes=[f"R{n:02d}" for n in range(20)])
    return pool


def hammer(url: str, bodies: list[dict]) -> list[requests.Response]:
    def call(body):
        return requests.post(url, json=body, auth=("racer", "pw"), timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(call, bodies))


def test_fifty_issuers_on_twenty_codes_get_twenty_distinct_codes_and_thirty_422(
    live_server, race_pool
):
    url = f"{live_server.url}/companies/RACE/incentives/pools/{race_pool.pk}/issuances"
    answers = hammer(url, [{"external_issuee_id": f"p{n}"} for n in range(50)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 20 + [422] * 30
    codes = [a.json()["incentive_code"]["code"] for a in answers if a.status_code == 200]
    assert len(set(codes)) == 20
    assert IncentiveIssuance.objects.count() == 20
    assert IncentiveCode.objects.filter(issued_at__isnull=True).count() == 0


def test_one_issuee_asking_ten_times_at_once_gets_one_code(live_server, race_pool):
    url = f"{live_server.url}/companies/RACE/incentives/pools/{race_pool.pk}/issuances"
    answers = hammer(url, [{"external_issuee_id": "same"}] * 10)
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["incentive_code"]["code"] for a in answers}) == 1
    assert IncentiveIssuance.objects.count() == 1
    assert IncentiveCode.objects.filter(issued_at__isnull=False).count() == 1


def test_one_code_redeemed_ten_times_at_once_redeems_once(live_server, race_pool):
    base = f"{live_server.url}/companies/RACE/incentives"
    issued = hammer(f"{base}/pools/{race_pool.pk}/issuances", [{"external_issuee_id": "a"}])
    code = issued[0].json()["incentive_code"]["code"]
    answers = hammer(f"{base}/codes/{code}/redemptions", [{"external_issuee_id": "a"}] * 10)
    assert sorted(a.status_code for a in answers) == [200] + [422] * 9
    assert IncentiveRedemption.objects.count() == 1
