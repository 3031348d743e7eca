"""Campaign replies use the broadcasts' `{{field}}` placeholder syntax."""

from __future__ import annotations

import pytest

from campaigns.services.acquisition import campaign_text, template_modernized
from mobiledb.broadcasts.templating import message_render
from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.selectors import custom_field_schema
from mobiledb.persons.services import person_add
from tests.factories import CompanyFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory


@pytest.mark.django_db
def test_campaign_replies_use_the_same_placeholders_as_broadcasts():
    company = CompanyFactory()
    custom_field_create(company=company, name="first_name", data_type="string")
    company.refresh_from_db()
    person, _ = person_add(company=company, mdn="+16125550123", custom_fields={"first_name": "Ana"})
    campaign = AcquisitionCampaignFactory(
        company=company, name="Deals", lists=[SubscriptionListFactory(company=company)]
    )
    assert campaign_text("{{first_name}}, welcome to {{campaign}}!", campaign, person) == (
        "Ana, welcome to Deals!"
    )
    # a reply saved in the older syntax still renders, and the form shows it modernized
    assert campaign_text("Joined {campaign}.", campaign, person) == "Joined Deals."
    assert template_modernized("Joined {campaign}, {{campaign}}") == (
        "Joined {{campaign}}, {{campaign}}"
    )
    schema = custom_field_schema(company)
    # a preview keeps what it cannot fill (an incentive code would be issued) as written
    assert message_render("Hi {{first_name}}{{nope}}", person=person, schema=schema) == (
        "Hi Ana{{nope}}"
    )
