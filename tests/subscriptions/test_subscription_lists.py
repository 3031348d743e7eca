"""Subscription lists: API, callbacks, archiving and the create command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mobiledb.models import SubscriptionList
from mobiledb.subscriptions.services import subscription_list_create, subscription_list_update
from tests.conftest import error_codes
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db


def test_lists_answer_the_spec_shape(api, company):
    main = SubscriptionListFactory(company=company, name="Main")
    SubscriptionListFactory(company=CompanyFactory(key="OTHER"))
    response = api.get("/companies/ACME/mobiledb/subscription_lists")
    base = f"/companies/ACME/mobiledb/subscription_lists/{main.pk}"
    assert response.json() == [
        {
            "id": str(main.pk),
            "name": "Main",
            "url": base,
            "subscribers_url": f"{base}/subscribers",
            "acquisition_campaigns_url": f"{base}/acquisition_campaigns",
        }
    ]
    assert api.get(base).json()["name"] == "Main"


@pytest.mark.parametrize("list_id", ["999999", "abc"])
def test_unknown_list_answers_404(api, company, list_id):
    response = api.get(f"/companies/ACME/mobiledb/subscription_lists/{list_id}")
    assert response.status_code == 404
    assert error_codes(response) == [ErrorCode.NOT_FOUND]


def test_another_companys_list_answers_404(api):
    foreign = SubscriptionListFactory(company=CompanyFactory(key="OTHER"))
    assert api.get(f"/companies/ACME/mobiledb/subscription_lists/{foreign.pk}").status_code == 404


@pytest.fixture
def subscribers(company):
    main = SubscriptionListFactory(company=company)
    active = PersonFactory(company=company, mdn="+12995551234", external_person_id="A")
    gone = PersonFactory(company=company, mdn="+12995551235", external_person_id="B")
    SubscriptionFactory(person=active, subscription_list=main)
    SubscriptionFactory(person=gone, subscription_list=main, opt_out_date="2026-01-01T00:00Z")
    PersonFactory(company=company, mdn="+12995551236")  # never subscribed
    return main, active


def test_subscribers_are_the_active_ones(api, subscribers):
    main, active = subscribers
    response = api.get(f"/companies/ACME/mobiledb/subscription_lists/{main.pk}/subscribers")
    assert [p["person_id"] for p in response.json()] == [active.pk]


@pytest.mark.parametrize(
    "query", ["mdn=2995551234", "mdn=%2B12995551234", "external_person_id=A", "person_key={key}"]
)
def test_subscribers_search(api, subscribers, query):
    main, active = subscribers
    query = query.format(key=active.person_key)
    path = f"/companies/ACME/mobiledb/subscription_lists/{main.pk}/subscribers?{query}"
    assert [p["person_id"] for p in api.get(path).json()] == [active.pk]


def test_subscribers_search_does_not_find_an_opted_out_person(api, subscribers):
    main, _ = subscribers
    path = f"/companies/ACME/mobiledb/subscription_lists/{main.pk}/subscribers?external_person_id=B"
    assert api.get(path).json() == []


def test_subscribers_search_with_a_bad_mdn_answers_400(api, subscribers):
    main, _ = subscribers
    path = f"/companies/ACME/mobiledb/subscription_lists/{main.pk}/subscribers?mdn=12"
    assert api.get(path).status_code == 400


def test_list_acquisition_campaigns(api, company):
    main = SubscriptionListFactory(company=company)
    campaign = AcquisitionCampaignFactory(company=company, lists=[main])
    AcquisitionCampaignFactory(company=company)  # another list's
    path = f"/companies/ACME/mobiledb/subscription_lists/{main.pk}/acquisition_campaigns"
    assert [c["acquisition_id"] for c in api.get(path).json()] == [str(campaign.pk)]


def test_create_and_update_emit_list_callbacks(company, emitted):
    created = subscription_list_create(company=company, name="News")
    subscription_list_update(subscription_list=created, name="Daily news")
    assert emitted.types() == ["subscription_list_added", "subscription_list_updated"]
    assert emitted.events[1].body_v1["subscription_list"]["name"] == "Daily news"
    assert list(emitted.events[0].body_v1["subscription_list"]) == [
        "id",
        "name",
        "url",
        "subscribers_url",
        "acquisition_campaigns_url",
    ]


def test_archiving_opts_subscribers_out_with_list_archived(company, emitted):
    main = subscription_list_create(company=company, name="News")
    SubscriptionFactory(person=PersonFactory(company=company), subscription_list=main)
    subscription_list_update(subscription_list=main, archived=True)
    [removed] = emitted.of_type("subscription_removed")
    assert removed.body_v1["subscription"]["opt_out_reason"] == "list_archived"


def test_create_subscription_list_command_prints_the_id_last(company):
    out = StringIO()
    call_command("create_subscription_list", "ACME", "Promotions", stdout=out)
    last_line = out.getvalue().strip().splitlines()[-1]
    assert SubscriptionList.objects.get(pk=int(last_line)).name == "Promotions"


def test_create_subscription_list_command_refuses_an_unknown_company(db):
    with pytest.raises(CommandError):
        call_command("create_subscription_list", "NOPE", "Promotions", stdout=StringIO())
