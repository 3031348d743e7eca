"""`.../persons/:id/subscriptions[/:list_id]`: subscribe, opt out, history (SPEC section 3)."""

from __future__ import annotations

import pytest

from mobiledb.models import Subscription
from mobiledb.subscriptions.services import (
    subscription_add,
    subscription_added_body,
    subscription_removed_body,
)
from tests.conftest import error_codes
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db

# seeds/000: the keys of the `subscription` object, in the seed's order
ADDED_KEYS = ["person", "subscription_list", "opt_in_date", "acquisition_campaign", "url"]
REMOVED_KEYS = [
    "person",
    "subscription_list",
    "opt_in_date",
    "opt_out_date",
    "opt_out_reason",
    "acquisition_campaign",
    "url",
]


@pytest.fixture
def person(company):
    return PersonFactory(company=company, external_person_id="ex1234")


@pytest.fixture
def main_list(company):
    return SubscriptionListFactory(company=company, name="Main")


def url(person, subscription_list=None) -> str:
    base = f"/companies/ACME/mobiledb/persons/{person.pk}/subscriptions"
    return f"{base}/{subscription_list.pk}" if subscription_list else base


def test_put_subscribes_and_answers_201_with_the_seed_shape(api, person, main_list, emitted):
    response = api.put(url(person, main_list))
    assert response.status_code == 201
    body = response.json()
    assert list(body) == REMOVED_KEYS
    assert body["person"] == {
        "id": str(person.pk),
        "external_id": "ex1234",
        "url": f"/companies/ACME/mobiledb/persons/{person.pk}",
    }
    assert body["subscription_list"] == {
        "id": str(main_list.pk),
        "url": f"/companies/ACME/mobiledb/subscription_lists/{main_list.pk}",
    }
    assert body["opt_out_date"] is None and body["acquisition_campaign"] is None
    assert (
        body["url"] == f"/companies/ACME/mobiledb/persons/{person.pk}/subscriptions/{main_list.pk}"
    )
    assert body["opt_in_date"].endswith("Z")
    assert emitted.types() == ["subscription_added"]


def test_subscription_added_callback_body_matches_seed_field_for_field(company, person, main_list):
    campaign = AcquisitionCampaignFactory(company=company, lists=[main_list])
    subscription, _ = subscription_add(
        person=person, subscription_list=main_list, acquisition_campaign=campaign
    )
    body = subscription_added_body(subscription, company=company)
    assert list(body) == ["subscription"]
    assert list(body["subscription"]) == ADDED_KEYS
    assert list(body["subscription"]["person"]) == ["id", "external_id", "url"]
    assert list(body["subscription"]["subscription_list"]) == ["id", "url"]
    assert body["subscription"]["acquisition_campaign"] == {
        "id": str(campaign.pk),
        "url": f"/companies/ACME/campaigns/acquisition/{campaign.pk}",
    }


def test_subscription_removed_callback_body_matches_seed_field_for_field(
    api, company, person, main_list, emitted
):
    api.put(url(person, main_list))
    api.delete(url(person, main_list))
    [event] = emitted.of_type("subscription_removed")
    assert event.person_id == person.pk
    subscription = event.body_v1["subscription"]
    assert list(subscription) == REMOVED_KEYS
    assert subscription["opt_out_reason"] == "api_opt_out"
    assert subscription["opt_out_date"].endswith("Z")
    stored = Subscription.objects.get(person=person)
    assert event.body_v1 == subscription_removed_body(stored, company=company)
    assert event.body_v1 == event.body_v2  # no MDN inside: the same for both versions


def test_put_when_already_subscribed_answers_200_without_a_new_row(api, person, main_list, emitted):
    api.put(url(person, main_list))
    response = api.put(url(person, main_list))
    assert response.status_code == 200
    assert Subscription.objects.filter(person=person).count() == 1
    assert emitted.types() == ["subscription_added"]


def test_delete_opts_out_with_api_opt_out(api, person, main_list):
    api.put(url(person, main_list))
    response = api.delete(url(person, main_list))
    assert response.status_code == 200
    assert response.json()["opt_out_reason"] == "api_opt_out"
    assert not Subscription.objects.filter(person=person, opt_out_date__isnull=True).exists()


def test_delete_when_not_subscribed_answers_404(api, person, main_list):
    response = api.delete(url(person, main_list))
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_delete_twice_answers_404_the_second_time(api, person, main_list):
    api.put(url(person, main_list))
    assert api.delete(url(person, main_list)).status_code == 200
    assert api.delete(url(person, main_list)).status_code == 404


def test_resubscription_is_a_new_row_and_history_is_kept(api, person, main_list):
    api.put(url(person, main_list))
    api.delete(url(person, main_list))
    assert api.put(url(person, main_list)).status_code == 201
    history = api.get(url(person)).json()
    assert len(history) == 2
    assert sorted(s["opt_out_reason"] or "" for s in history) == ["", "api_opt_out"]
    active = api.get(url(person) + "?active_only=true").json()
    assert len(active) == 1 and active[0]["opt_out_date"] is None


def test_get_one_subscription_shows_the_active_one(api, person, main_list):
    api.put(url(person, main_list))
    api.delete(url(person, main_list))
    api.put(url(person, main_list))
    response = api.get(url(person, main_list))
    assert response.status_code == 200
    assert response.json()["opt_out_date"] is None


def test_get_an_opted_out_subscription_shows_the_opt_out(api, person, main_list):
    api.put(url(person, main_list))
    api.delete(url(person, main_list))
    assert api.get(url(person, main_list)).json()["opt_out_reason"] == "api_opt_out"


def test_get_never_subscribed_answers_404(api, person, main_list):
    assert api.get(url(person, main_list)).status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_list_answers_404(api, person, method):
    response = getattr(api, method)(url(person) + "/999999")
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_another_companys_list_answers_404(api, person):
    foreign = SubscriptionListFactory(company=CompanyFactory(key="OTHER"))
    assert api.put(url(person, foreign)).status_code == 404
    assert not Subscription.objects.exists()


def test_unknown_person_answers_404(api, main_list):
    response = api.put(f"/companies/ACME/mobiledb/persons/999999/subscriptions/{main_list.pk}")
    assert response.status_code == 404


def test_person_is_addressed_by_person_key_too(api, person, main_list):
    response = api.put(
        f"/companies/ACME/mobiledb/persons/{person.person_key}/subscriptions/{main_list.pk}/"
    )
    assert response.status_code == 201


def test_bad_active_only_answers_400(api, person):
    response = api.get(url(person) + "?active_only=maybe")
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_QUERY_PARAMETER]


def test_subscribing_to_an_archived_list_answers_422(api, person, main_list):
    main_list.archived = True
    main_list.save()
    assert api.put(url(person, main_list)).status_code == 422


# --- by external id (platform OpenAPI: persons/external/:external_person_id/subscriptions) ---


def external_url(external_id: str, subscription_list=None) -> str:
    base = f"/companies/ACME/mobiledb/persons/external/{external_id}/subscriptions"
    return f"{base}/{subscription_list.pk}" if subscription_list else base


def test_subscriptions_by_external_id_list_get_and_opt_out(api, person, main_list, emitted):
    subscription_add(person=person, subscription_list=main_list)

    listed = api.get(external_url("ex1234"))
    assert listed.status_code == 200
    assert [s["subscription_list"]["id"] for s in listed.json()] == [str(main_list.pk)]

    one = api.get(external_url("ex1234", main_list))
    assert one.status_code == 200
    assert one.json()["person"]["external_id"] == "ex1234"

    removed = api.delete(external_url("ex1234", main_list) + "/")
    assert removed.status_code == 200
    assert removed.json()["opt_out_reason"] == "api_opt_out"
    assert "subscription_removed" in emitted.types()


def test_subscriptions_by_external_id_with_a_slash_in_the_id(api, company, main_list):
    slashed = PersonFactory(company=company, external_person_id="crm/42")
    subscription_add(person=slashed, subscription_list=main_list)
    response = api.get(external_url("crm/42"))
    assert response.status_code == 200
    assert response.json()[0]["person"]["id"] == str(slashed.pk)


def test_subscriptions_by_unknown_external_id_answers_404(api, main_list):
    response = api.get(external_url("nobody", main_list))
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_person_by_external_id_still_answers_beside_its_subscriptions(api, person):
    response = api.get("/companies/ACME/mobiledb/persons/external/ex1234")
    assert response.status_code == 200
    assert response.json()["person_id"] == person.pk
