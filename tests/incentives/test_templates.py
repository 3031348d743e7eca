"""`{{incentive_code:POOL_ID}}` in broadcasts and campaign replies: a code per recipient,
a recipient whose pool is empty skipped and counted; the registry mobiledb owns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.admin import AcquisitionCampaignForm
from campaigns.incentives.pools import incentive_pool_create
from campaigns.models import IncentiveIssuance
from mobiledb.broadcasts.services import (
    broadcast_create,
    broadcast_send_next_batch,
    broadcast_start,
)
from mobiledb.broadcasts.templating import (
    SkipRecipient,
    TemplateInvalid,
    placeholder_resolvers,
    template_check,
    template_render,
)
from mobiledb.models import Broadcast, OutboundMessage
from mobiledb.persons.selectors import custom_field_schema
from tests.factories import CompanyFactory, PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory

from .conftest import BASE, load

pytestmark = pytest.mark.django_db


def subscribed(company, count):
    listed = SubscriptionListFactory(company=company)
    persons = [PersonFactory(company=company) for _ in range(count)]
    for person in persons:
        SubscriptionFactory(person=person, subscription_list=listed)
    return listed, persons


def send(broadcast):
    Broadcast.objects.filter(pk=broadcast.pk).update(
        send_scheduled_date=timezone.now() - timedelta(seconds=1)
    )
    assert broadcast_start(broadcast_id=broadcast.pk)
    while broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=2):
        pass
    broadcast.refresh_from_db()
    return broadcast


def test_campaigns_registers_the_incentive_code_placeholder_at_ready():
    assert "incentive_code" in placeholder_resolvers()


def test_broadcast_issues_one_code_per_recipient_and_skips_the_rest(company, pool):
    load(pool, ["C1", "C2", "C3"])
    listed, persons = subscribed(company, 5)
    broadcast = broadcast_create(
        company=company,
        name="codes",
        send_scheduled_date=timezone.now() + timedelta(hours=1),
        message_template=f"Your code: {{{{incentive_code:{pool.pk}}}}}",
        source_lists=[listed.pk],
    )
    broadcast = send(broadcast)
    bodies = sorted(OutboundMessage.objects.values_list("body", flat=True))
    assert bodies == ["Your code: C1", "Your code: C2", "Your code: C3"]
    assert (broadcast.sent_count, broadcast.failed_count) == (3, 2)
    assert broadcast.status == Broadcast.Status.SENT
    issued_to = set(IncentiveIssuance.objects.values_list("person_id", flat=True))
    assert issued_to == {p.pk for p in persons[:3]}


def test_broadcast_template_naming_an_unknown_pool_answers_400(api, company):
    listed = SubscriptionListFactory(company=company)
    theirs = incentive_pool_create(company=CompanyFactory(key="OTHER"), name="Theirs")
    for pool_id in ("999", str(theirs.pk)):
        response = api.post(
            "/companies/ACME/mobiledb/broadcasts",
            {
                "name": "x",
                "send_scheduled_date": "2099-01-01T00:00:00Z",
                "targeting": {
                    "message_template": f"Code {{{{incentive_code:{pool_id}}}}}",
                    "source_lists": [listed.pk],
                },
            },
        )
        assert response.status_code == 400, response.content
        assert "no incentive pool" in response.json()["errors"][0]["message"]


def test_same_person_gets_the_same_code_in_two_messages(company, pool):
    load(pool, ["P1", "P2"])
    person = PersonFactory(company=company)
    schema = custom_field_schema(company)
    template = f"{{{{incentive_code:{pool.pk}}}}}"
    assert template_render(template, person, schema=schema) == "P1"
    assert template_render(template, person, schema=schema) == "P1"


def test_empty_pool_raises_skip_recipient(company, pool):
    person = PersonFactory(company=company)
    with pytest.raises(SkipRecipient, match="No codes are available"):
        template_render(
            f"{{{{incentive_code:{pool.pk}}}}}", person, schema=custom_field_schema(company)
        )


def test_unknown_placeholder_with_argument_is_refused(company):
    with pytest.raises(TemplateInvalid):
        template_check("{{coupon:3}}", company=company, schema=custom_field_schema(company))


def test_campaign_welcome_carries_a_code_and_an_empty_pool_sends_none(api, company, pool):
    load(pool, ["W1"])
    campaign = AcquisitionCampaignFactory(
        company=company,
        welcome_message=f"Welcome to {{campaign}}! Code {{{{incentive_code:{pool.pk}}}}}",
    )
    url = f"/companies/ACME/campaigns/acquisition/{campaign.pk}/participants"
    assert api.post(url, {"mobile_phone": {"mdn": "6125550101"}}).status_code == 201
    assert api.post(url, {"mobile_phone": {"mdn": "6125550102"}}).status_code == 201
    welcomes = list(OutboundMessage.objects.filter(kind=OutboundMessage.Kind.WELCOME))
    assert [m.body for m in welcomes] == [f"Welcome to {campaign.name}! Code W1"]
    assert api.get(f"{BASE}/codes/W1/issuances").json()[0]["referring_application"] == (
        "message_template"
    )


def test_campaign_admin_refuses_a_reply_naming_an_unknown_pool(company):
    listed = SubscriptionListFactory(company=company)
    form = AcquisitionCampaignForm(
        data={
            "company": company.pk,
            "name": "C",
            "subscription_lists": [listed.pk],
            "opt_in": "single",
            "status": "active",
            "confirmation_message": "Reply YES",
            "welcome_message": "Code {{incentive_code:424242}}",
        }
    )
    assert not form.is_valid()
    assert "no incentive pool" in str(form.errors["welcome_message"])
