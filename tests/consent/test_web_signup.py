"""The public web sign-up page of an acquisition campaign (SPEC section 13)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from campaigns.models import AcquisitionCampaign, Participation
from mobiledb.models import ConsentRecord, OutboundMessage, Person, Subscription
from mobiledb.persons.custom_fields import custom_field_create
from mobiledb.persons.models import CustomField
from tests.factories import CompanyFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory

pytestmark = pytest.mark.django_db
DISCLOSURE = "Acme Deals: up to 4 msgs/month. Msg & data rates may apply. Reply STOP to cancel."


@pytest.fixture
def campaign(company):
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="points", data_type="integer")
    campaign = AcquisitionCampaignFactory(
        company=company, name="Acme Deals", web_signup=True, disclosure=DISCLOSURE
    )
    campaign.signup_fields.set(CustomField.objects.filter(company=company))
    return campaign


def post(client: Client, campaign, **fields):
    data = {"mdn": "(229) 555-1234", "agree": "on", "website": "", **fields}
    return client.post(campaign.signup_path, data, REMOTE_ADDR="203.0.113.7",
                       HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")  # fmt: skip


def test_the_page_shows_the_number_the_fields_and_the_disclosure(campaign):
    response = Client().get(campaign.signup_path)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert 'type="tel"' in html
    assert "field_first_name" in html and "field_points" in html
    assert DISCLOSURE in html


def test_single_opt_in_subscribes_and_records_the_web_consent(company, campaign):
    response = post(Client(), campaign, field_first_name="Ana", field_points="7")
    assert response.status_code == 200
    assert "you are signed up" in response.content.decode()
    person = Person.objects.get(company=company, mdn="+12295551234")
    assert person.custom_fields == {"first_name": "Ana", "points": 7}
    assert Subscription.objects.filter(person=person, opt_out_date__isnull=True).count() == 1
    record = ConsentRecord.objects.get(company=company, action="opt_in")
    assert record.channel == "web"
    assert record.text == DISCLOSURE
    assert campaign.signup_path in record.source
    assert "203.0.113.7" in record.source and "iPhone" in record.source
    assert Participation.objects.get(person=person).source == "web"


def test_double_opt_in_texts_the_confirmation_request(company, campaign):
    campaign.opt_in = AcquisitionCampaign.OptIn.DOUBLE
    campaign.save()
    response = post(Client(), campaign)
    assert "Reply <strong>YES</strong>" in response.content.decode()
    (request,) = OutboundMessage.objects.filter(kind="confirmation_request")
    assert request.mdn == "+12295551234"
    assert not Subscription.objects.exists()


def test_a_second_submission_of_the_same_number_subscribes_once(company, campaign):
    client = Client()
    post(client, campaign)
    response = post(client, campaign)
    assert "already signed up" in response.content.decode()
    assert Subscription.objects.count() == 1
    assert ConsentRecord.objects.filter(action="opt_in").count() == 1


def test_a_bot_filling_the_honeypot_changes_nothing(company, campaign):
    response = post(Client(), campaign, website="http://spam.example")
    assert response.status_code == 200
    assert not Person.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_too_many_submissions_from_one_address_are_refused(company, campaign):
    client = Client()
    statuses = [post(client, campaign, mdn=f"229555{n:04d}").status_code for n in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    assert Person.objects.count() == 10


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mdn": "12"}, "Enter a mobile number"),
        ({"agree": ""}, "This field is required"),
        ({"field_points": "many"}, "Enter a whole number"),
    ],
)
def test_bad_input_is_a_form_error(company, campaign, fields, message):
    response = post(Client(), campaign, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscription.objects.exists()


def test_unknown_disabled_or_ended_pages(company, campaign):
    assert Client().get("/join/nope").status_code == 404
    other = AcquisitionCampaignFactory(company=CompanyFactory(key="OTHER"))
    assert other.signup_path is None
    campaign.status = AcquisitionCampaign.Status.PAST
    campaign.save()
    assert Client().get(campaign.signup_path).status_code == 410
    campaign.web_signup = False
    campaign.save()
    assert Client().get(f"/join/{campaign.web_token}").status_code == 404
