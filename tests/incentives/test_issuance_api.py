"""Issuance and redemption through the API (SPEC section 11) and their refusals."""

from __future__ import annotations

import pytest
from django.core import mail

from callbacks.models import CallbackEvent
from campaigns.incentives.pools import incentive_pool_create, incentive_pool_update
from campaigns.models import IncentiveCode, IncentiveIssuance
from tests.conftest import error_codes, errors_of
from tests.factories import CallbackRegistrationFactory, CompanyFactory, PersonFactory

from .conftest import BASE, load

pytestmark = pytest.mark.django_db


def issue(api, pool, body):
    return api.post(f"{BASE}/pools/{pool.pk}/issuances", body)


def test_issuance_hands_a_never_issued_code_in_the_platform_shape(api, stocked_pool):
    response = issue(
        api,
        stocked_pool,
        {
            "external_issuee_id": "crm-1",
            "referring_application": "crm",
            "referring_application_ref_id": "order-7",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incentive_code"] == {"code": "CODE000", "url": f"{BASE}/codes/CODE000"}
    assert body["incentive_pool"] == {
        "id": stocked_pool.pk,
        "url": f"{BASE}/pools/{stocked_pool.pk}",
    }
    assert body["external_issuee_id"] == "crm-1"
    assert body["referring_application"] == "crm"
    assert body["referring_application_ref_id"] == "order-7"
    assert isinstance(body["id"], int)


def test_each_issuee_gets_a_different_code_and_the_same_one_again(api, stocked_pool):
    first = issue(api, stocked_pool, {"external_issuee_id": "a"}).json()["incentive_code"]
    second = issue(api, stocked_pool, {"external_issuee_id": "b"}).json()["incentive_code"]
    again = issue(api, stocked_pool, {"external_issuee_id": "a"}).json()["incentive_code"]
    assert first != second
    assert again == first
    assert IncentiveIssuance.objects.count() == 2


def test_issuee_id_as_integer_or_string_is_the_same_issuee(api, stocked_pool):
    one = issue(api, stocked_pool, {"issuee_id": 42}).json()
    two = issue(api, stocked_pool, {"issuee_id": "42"}).json()
    assert one["id"] == two["id"]
    assert one["issuee_id"] == "42"


def test_issuee_id_naming_a_person_of_the_company_links_the_person(api, company, stocked_pool):
    person = PersonFactory(company=company)
    issue(api, stocked_pool, {"issuee_id": person.pk})
    assert IncentiveIssuance.objects.get().person_id == person.pk


def test_issuee_id_naming_another_companys_person_links_nobody(api, stocked_pool):
    stranger = PersonFactory(company=CompanyFactory(key="OTHER"))
    issue(api, stocked_pool, {"issuee_id": stranger.pk})
    assert IncentiveIssuance.objects.get().person_id is None


def test_empty_pool_answers_422_with_a_clear_message(api, pool):
    response = issue(api, pool, {"external_issuee_id": "a"})
    assert response.status_code == 422
    assert "No codes are available" in errors_of(response)[0]["message"]
    assert error_codes(response) == [422]


def test_exhausted_pool_answers_422(api, pool):
    load(pool, ["ONLY"])
    assert issue(api, pool, {"external_issuee_id": "a"}).status_code == 200
    assert issue(api, pool, {"external_issuee_id": "b"}).status_code == 422


def test_issuance_switched_off_answers_422(api, stocked_pool):
    incentive_pool_update(pool=stocked_pool, issuance_allowed=False)
    response = issue(api, stocked_pool, {"external_issuee_id": "a"})
    assert response.status_code == 422
    assert "not allowed" in errors_of(response)[0]["message"]


@pytest.mark.parametrize("body", [{}, {"issuee_id": ""}, {"external_issuee_id": None}])
def test_issuee_missing_answers_400(api, stocked_pool, body):
    response = issue(api, stocked_pool, body)
    assert response.status_code == 400
    assert error_codes(response) == [200]


@pytest.mark.parametrize(
    "body",
    [{"issuee_id": {"x": 1}}, {"external_issuee_id": True}, {"issuee_id": "x" * 129}],
)
def test_bad_issuee_answers_400(api, stocked_pool, body):
    assert issue(api, stocked_pool, body).status_code == 400


def test_code_in_the_body_issues_that_code(api, stocked_pool):
    response = issue(api, stocked_pool, {"external_issuee_id": "a", "code": "CODE003"})
    assert response.json()["incentive_code"]["code"] == "CODE003"


def test_code_not_in_the_pool_answers_422(api, company, stocked_pool):
    other = incentive_pool_create(company=company, name="Other")
    load(other, ["ELSEWHERE"])
    for code in ("NOPE", "ELSEWHERE"):
        response = issue(api, stocked_pool, {"external_issuee_id": "a", "code": code})
        assert response.status_code == 422
        assert "not in incentive pool" in errors_of(response)[0]["message"]


def test_code_issued_to_someone_else_answers_422(api, stocked_pool):
    issue(api, stocked_pool, {"external_issuee_id": "a", "code": "CODE001"})
    response = issue(api, stocked_pool, {"external_issuee_id": "b", "code": "CODE001"})
    assert response.status_code == 422
    assert "another issuee" in errors_of(response)[0]["message"]


def test_unknown_or_foreign_pool_answers_404(api):
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirs")
    load(theirs, ["T1"])
    for pool_id in ("424242", str(theirs.pk)):
        response = api.post(f"{BASE}/pools/{pool_id}/issuances", {"external_issuee_id": "a"})
        assert response.status_code == 404


def test_multi_pool_shares_its_code(api, company):
    multi = incentive_pool_create(company=company, name="All", distribution="multi")
    load(multi, ["SHARED10"])
    codes = {
        issue(api, multi, {"external_issuee_id": n}).json()["incentive_code"]["code"] for n in "abc"
    }
    assert codes == {"SHARED10"}
    counts = api.get(f"{BASE}/pools/{multi.pk}").json()["incentive_codes"]
    assert (counts["issued"], counts["remaining"]) == (3, 1)


# --- codes and redemptions -------------------------------------------------------------


def test_get_code_counts_issuances_and_redemptions(api, stocked_pool):
    issue(api, stocked_pool, {"external_issuee_id": "a"})
    api.post(f"{BASE}/codes/CODE000/redemptions", {"external_issuee_id": "a"})
    body = api.get(f"{BASE}/codes/CODE000").json()
    assert body["code"] == "CODE000"
    assert body["active"] is True
    assert body["issuances"] == {"total": 1, "unique": 1}
    assert body["redemptions"] == {"total": 1, "unique": 1}
    assert body["incentive_pool"]["id"] == stocked_pool.pk
    issuances = api.get(f"{BASE}/codes/CODE000/issuances/").json()
    assert [i["external_issuee_id"] for i in issuances] == ["a"]
    redemptions = api.get(f"{BASE}/codes/CODE000/redemptions").json()
    assert redemptions[0]["issuance"]["id"] == issuances[0]["id"]


def test_redemption_by_the_issuee_succeeds_once(api, stocked_pool):
    issue(api, stocked_pool, {"issuee_id": "7"})
    first = api.post(f"{BASE}/codes/CODE000/redemptions", {"issuee_id": 7})
    assert first.status_code == 200, first.content
    again = api.post(f"{BASE}/codes/CODE000/redemptions", {"issuee_id": "7"})
    assert again.status_code == 422
    assert "already redeemed" in errors_of(again)[0]["message"]


def test_redemption_by_someone_else_answers_422(api, stocked_pool):
    issue(api, stocked_pool, {"external_issuee_id": "a"})
    response = api.post(f"{BASE}/codes/CODE000/redemptions", {"external_issuee_id": "b"})
    assert response.status_code == 422
    assert "not issued to this issuee" in errors_of(response)[0]["message"]


def test_redemption_of_a_never_issued_code_answers_422(api, stocked_pool):
    response = api.post(f"{BASE}/codes/CODE004/redemptions", {"external_issuee_id": "a"})
    assert response.status_code == 422


def test_redemption_switched_off_answers_422(api, stocked_pool):
    issue(api, stocked_pool, {"external_issuee_id": "a"})
    incentive_pool_update(pool=stocked_pool, redemption_allowed=False)
    response = api.post(f"{BASE}/codes/CODE000/redemptions", {"external_issuee_id": "a"})
    assert response.status_code == 422
    assert "not allowed" in errors_of(response)[0]["message"]


def test_multi_pool_redeems_once_per_issuee(api, company):
    multi = incentive_pool_create(company=company, name="All", distribution="multi")
    load(multi, ["SHARED10"])
    for name in "ab":
        issue(api, multi, {"external_issuee_id": name})
    url = f"{BASE}/codes/SHARED10/redemptions"
    assert api.post(url, {"external_issuee_id": "a"}).status_code == 200
    assert api.post(url, {"external_issuee_id": "b"}).status_code == 200
    assert api.post(url, {"external_issuee_id": "a"}).status_code == 422
    assert api.get(f"{BASE}/codes/SHARED10").json()["redemptions"] == {"total": 2, "unique": 2}


def test_redemption_without_issuee_answers_400(api, stocked_pool):
    issue(api, stocked_pool, {"external_issuee_id": "a"})
    assert api.post(f"{BASE}/codes/CODE000/redemptions", {}).status_code == 400


def test_unknown_or_foreign_code_answers_404(api):
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirs")
    load(theirs, ["THEIRS"])
    for path in ("", "/issuances", "/redemptions"):
        for code in ("NOPE", "THEIRS"):
            assert api.get(f"{BASE}/codes/{code}{path}").status_code == 404
    response = api.post(f"{BASE}/codes/THEIRS/redemptions", {"external_issuee_id": "a"})
    assert response.status_code == 404


def test_codes_list_filters_by_pool(api, company, stocked_pool):
    other = incentive_pool_create(company=company, name="Other")
    load(other, ["Z1"])
    assert len(api.get(f"{BASE}/codes").json()) == 6
    listed = api.get(f"{BASE}/codes?pool_id={other.pk}").json()
    assert [c["code"] for c in listed] == ["Z1"]


# --- callbacks and the low threshold ----------------------------------------------------


def test_issuance_and_redemption_write_their_callbacks_in_the_outbox(api, company, stocked_pool):
    for kind in ("incentive_issued", "incentive_redeemed"):
        CallbackRegistrationFactory(company=company, callback_type=kind)
    issued = issue(api, stocked_pool, {"external_issuee_id": "a"}).json()
    redeemed = api.post(f"{BASE}/codes/CODE000/redemptions", {"external_issuee_id": "a"}).json()
    events = {e.callback_type: e for e in CallbackEvent.objects.all()}
    assert set(events) == {"incentive_issued", "incentive_redeemed"}
    assert events["incentive_issued"].bodies["1"] == {"issuance": issued}
    assert events["incentive_redeemed"].bodies["1"] == {"redemption": redeemed}


def test_callback_scoped_to_another_pool_does_not_fire(api, company, stocked_pool):
    CallbackRegistrationFactory(
        company=company, callback_type="incentive_issued", scope={"pool_id": "999"}
    )
    issue(api, stocked_pool, {"external_issuee_id": "a"})
    assert not CallbackEvent.objects.exists()


def test_refused_issuance_writes_no_callback(api, company, pool):
    CallbackRegistrationFactory(company=company, callback_type="incentive_issued")
    assert issue(api, pool, {"external_issuee_id": "a"}).status_code == 422
    assert not CallbackEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_low_email_per_crossing_and_rearmed_by_new_codes(api, company):
    pool = incentive_pool_create(
        company=company, name="Low", low_threshold=2, notification_email_address="ops@example.com"
    )
    load(pool, [f"L{n}" for n in range(5)])
    for n in range(2):
        issue(api, pool, {"external_issuee_id": f"p{n}"})
    assert mail.outbox == []  # 3 left, threshold 2
    issue(api, pool, {"external_issuee_id": "p2"})  # 2 left: the crossing
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "2 left" in mail.outbox[0].subject
    issue(api, pool, {"external_issuee_id": "p3"})  # 1 left: same crossing, no email
    assert len(mail.outbox) == 1
    load(pool, ["M1", "M2", "M3"])  # 4 left: re-armed
    issue(api, pool, {"external_issuee_id": "p4"})  # 3 left
    assert len(mail.outbox) == 1
    issue(api, pool, {"external_issuee_id": "p5"})  # 2 left: the second crossing
    assert len(mail.outbox) == 2


def test_issued_codes_are_marked_and_counted_exactly(api, stocked_pool):
    for n in range(3):
        issue(api, stocked_pool, {"external_issuee_id": str(n)})
    assert IncentiveCode.objects.filter(issued_at__isnull=False).count() == 3


def test_callback_registration_scoped_to_an_unknown_pool_answers_400(api, stocked_pool):
    body = {
        "callback_type": "incentive_issued",
        "destination": {"url": "http://127.0.0.1:9/cb", "method": "POST"},
        "scope": {"pool_id": "999999"},
    }
    response = api.post("/companies/ACME/config/callbacks", body)
    assert response.status_code == 400
    assert "not an incentive pool" in errors_of(response)[0]["message"]
    ok = api.post(
        "/companies/ACME/config/callbacks", {**body, "scope": {"pool_id": stocked_pool.pk}}
    )
    assert ok.status_code in (200, 201), ok.content
