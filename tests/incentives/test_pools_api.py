"""Pools: GET list / GET / POST / PUT, live counts, and the bad input of issue 12."""

from __future__ import annotations

import pytest

from campaigns.incentives.pools import incentive_pool_create
from tests.conftest import error_codes, errors_of
from tests.factories import CompanyFactory

from .conftest import BASE, load

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Summer",
    "issuance_allowed": True,
    "redemption_allowed": True,
    "incentive_codes": {"low_threshold": 10, "max_characters": 12},
    "distribution": {"method": "unique"},
    "notification_email_address": "ops@example.com",
}


def test_post_creates_a_pool_in_the_platform_shape(api):
    response = api.post(f"{BASE}/pools", BODY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Summer"
    assert body["incentive_codes"] == {
        "total": 0,
        "issued": 0,
        "remaining": 0,
        "low_threshold": 10,
        "max_characters": 12,
    }
    assert body["distribution"] == {"method": "unique"}
    assert body["notification_email_address"] == "ops@example.com"
    assert body["url"] == f"{BASE}/pools/{body['id']}"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith("Z")


def test_list_and_get_with_and_without_trailing_slash(api, pool):
    load(pool, ["A1", "A2", "A3"])
    for path in (f"{BASE}/pools", f"{BASE}/pools/"):
        listed = api.get(path)
        assert listed.status_code == 200
        assert [p["id"] for p in listed.json()] == [pool.pk]
        assert listed.json()[0]["incentive_codes"]["total"] == 3
    for path in (f"{BASE}/pools/{pool.pk}", f"{BASE}/pools/{pool.pk}/"):
        assert api.get(path).json()["incentive_codes"]["remaining"] == 3


def test_counts_follow_issuance(api, stocked_pool):
    api.post(f"{BASE}/pools/{stocked_pool.pk}/issuances", {"external_issuee_id": "crm-1"})
    counts = api.get(f"{BASE}/pools/{stocked_pool.pk}").json()["incentive_codes"]
    assert (counts["total"], counts["issued"], counts["remaining"]) == (5, 1, 4)


def test_put_changes_only_the_fields_sent(api, pool):
    response = api.put(f"{BASE}/pools/{pool.pk}", {"issuance_allowed": False})
    assert response.status_code == 200
    assert response.json()["issuance_allowed"] is False
    assert response.json()["name"] == "Spring"


def test_put_changing_distribution_before_any_issuance_is_allowed(api, stocked_pool):
    response = api.put(f"{BASE}/pools/{stocked_pool.pk}", {"distribution": {"method": "multi"}})
    assert response.status_code == 200
    assert response.json()["distribution"]["method"] == "multi"


def test_put_changing_distribution_once_issued_answers_403(api, stocked_pool):
    api.post(f"{BASE}/pools/{stocked_pool.pk}/issuances", {"external_issuee_id": "crm-1"})
    response = api.put(f"{BASE}/pools/{stocked_pool.pk}", {"distribution": {"method": "multi"}})
    assert response.status_code == 403
    assert error_codes(response) == [400]
    same = api.put(f"{BASE}/pools/{stocked_pool.pk}", {"distribution": {"method": "unique"}})
    assert same.status_code == 200


@pytest.mark.parametrize("threshold", [-1, 1.5, "ten", True, None, [3]])
def test_bad_threshold_answers_400(api, threshold):
    body = {**BODY, "incentive_codes": {"low_threshold": threshold, "max_characters": 10}}
    response = api.post(f"{BASE}/pools", body)
    assert response.status_code == 400, response.content
    assert "low_threshold" in errors_of(response)[0]["message"]


def test_several_bad_fields_are_all_listed(api):
    body = {"name": "", "distribution": {"method": "shared"}, "notification_email_address": "x"}
    response = api.post(f"{BASE}/pools", body)
    assert response.status_code == 400
    assert len(errors_of(response)) == 3


@pytest.mark.parametrize("max_characters", [0, 256, -5, "abc"])
def test_bad_max_characters_answers_400(api, max_characters):
    body = {**BODY, "incentive_codes": {"low_threshold": 1, "max_characters": max_characters}}
    assert api.post(f"{BASE}/pools", body).status_code == 400


def test_body_not_an_object_answers_400(api):
    assert api.post(f"{BASE}/pools", raw="[1]").status_code == 400
    assert api.post(f"{BASE}/pools", {**BODY, "incentive_codes": 5}).status_code == 400


@pytest.mark.parametrize("pool_id", ["999999", "abc", "1.5", "-1"])
def test_unknown_pool_answers_404(api, pool_id):
    response = api.get(f"{BASE}/pools/{pool_id}")
    assert response.status_code == 404
    assert error_codes(response) == [120]


def test_another_companys_pool_answers_404(api):
    other = CompanyFactory(key="OTHER")
    theirs = incentive_pool_create(company=other, name="Theirs")
    assert api.get(f"{BASE}/pools/{theirs.pk}").status_code == 404
    assert api.put(f"{BASE}/pools/{theirs.pk}", {"name": "Mine"}).status_code == 404
    assert api.post(f"{BASE}/pools/{theirs.pk}/codes", {"codes": ["X"]}).status_code == 404
    assert api.get(f"{BASE}/pools").json() == []
