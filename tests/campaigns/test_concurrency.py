"""Simultaneous requests through real HTTP: one effect each (PostgreSQL unique races)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from campaigns.models import AcquisitionCampaign, InboundEvent, Participation
from mobiledb.models import OutboundMessage, Subscription
from tests.factories import CompanyFactory, MembershipFactory, PersonFactory, UserFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="unique races need PostgreSQL"
)
pytestmark = [postgres_only, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def race_company():
    company = CompanyFactory(key="RACE")
    MembershipFactory(company=company, user=UserFactory(username="racer"))
    return company


def hammer(method: str, url: str, body, times: int = 10) -> list[int]:
    def call(_):
        return requests.request(
            method, url, json=body, auth=("racer", "pw"), timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(call, range(times)))


def test_one_inbound_event_sent_ten_times_at_once_applies_once(live_server, race_company):
    AcquisitionCampaignFactory(
        company=race_company, keyword="DEALS", opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    body = {
        "event_id": "same",
        "event_type": "inbound_message",
        "mdn": "+12295551234",
        "message": "DEALS",
    }
    statuses = hammer("post", f"{live_server.url}/companies/RACE/events", body)
    assert sorted(statuses) == [200] * 9 + [201]
    assert InboundEvent.objects.count() == 1
    assert Participation.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_ten_simultaneous_subscribes_make_one_subscription(live_server, race_company):
    person = PersonFactory(company=race_company)
    main = race_company.subscription_lists.create(name="main")
    url = f"{live_server.url}/companies/RACE/mobiledb/persons/{person.pk}/subscriptions/{main.pk}"
    statuses = hammer("put", url, None)
    assert sorted(statuses) == [200] * 9 + [201]
    assert Subscription.objects.filter(person=person).count() == 1


def test_ten_simultaneous_participants_with_one_mdn_make_one_pending(live_server, race_company):
    campaign = AcquisitionCampaignFactory(
        company=race_company, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    url = f"{live_server.url}/companies/RACE/campaigns/acquisition/{campaign.pk}/participants"
    statuses = hammer("post", url, {"mobile_phone": {"mdn": "2295551234"}})
    assert sorted(statuses) == [200] * 9 + [201]
    assert Participation.objects.filter(status="PENDING").count() == 1
    assert OutboundMessage.objects.count() == 1
