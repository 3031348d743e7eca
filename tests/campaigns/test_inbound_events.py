"""`POST /companies/:key/events`: STOP, YES, NO, keywords, idempotency (SPEC section 5)."""

from __future__ import annotations

import itertools

import pytest

from campaigns.api.views import InboundEventView
from campaigns.models import AcquisitionCampaign, InboundEvent, Participation
from mobiledb.models import OutboundMessage, Person, Subscription
from tests.conftest import APIClient, error_codes
from tests.factories import PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db
EVENTS = "/companies/ACME/events"
MDN = "+12295551234"
_ids = itertools.count(1)


def sms(api, message: str, mdn: str = MDN, event_id: str | None = None, **extra):
    body = {
        "event_id": event_id or f"evt-{next(_ids)}",
        "event_type": "inbound_message",
        "mdn": mdn,
        "short_code": "12345",
        "message": message,
        "event_date": "2026-01-01T00:00:00Z",
        **extra,
    }
    return api.post(EVENTS, body)


@pytest.fixture
def subscribed(company):
    """A person with MDN on two lists (and opted out of a third long ago)."""
    person = PersonFactory(company=company, mdn=MDN)
    lists = [SubscriptionListFactory(company=company) for _ in range(3)]
    SubscriptionFactory(person=person, subscription_list=lists[0])
    SubscriptionFactory(person=person, subscription_list=lists[1])
    SubscriptionFactory(
        person=person,
        subscription_list=lists[2],
        opt_out_date="2025-01-01T00:00Z",
        opt_out_reason="api_opt_out",
    )
    return person, lists


def test_stop_opts_out_of_every_list_with_user_opt_out(api, subscribed, emitted):
    person, lists = subscribed
    response = sms(api, "STOP")
    assert response.status_code == 201
    assert response.json()["outcome"] == "opted_out"
    assert not Subscription.objects.filter(person=person, opt_out_date__isnull=True).exists()
    removed = emitted.of_type("subscription_removed")
    assert sorted(int(e.body_v1["subscription"]["subscription_list"]["id"]) for e in removed) == [
        lists[0].pk,
        lists[1].pk,
    ]
    assert {e.body_v1["subscription"]["opt_out_reason"] for e in removed} == {"user_opt_out"}


@pytest.mark.parametrize(
    "word", ["stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "cancel", "END", "quit", " STOP please"]
)
def test_stop_synonyms(api, subscribed, word):
    person, _ = subscribed
    assert sms(api, word).json()["outcome"] == "opted_out"
    assert not Subscription.objects.filter(person=person, opt_out_date__isnull=True).exists()


def test_stop_touches_only_this_company(api, subscribed):
    other = PersonFactory(mdn=MDN)  # the same phone in another company
    SubscriptionFactory(person=other)
    sms(api, "STOP")
    assert Subscription.objects.filter(person=other, opt_out_date__isnull=True).exists()


def test_stop_from_an_unknown_mdn_is_recorded_and_acknowledged(api, company):
    response = sms(api, "STOP", mdn="+12295559999")
    assert response.status_code == 201
    assert InboundEvent.objects.get().outcome == "unknown_mdn"
    assert not Person.objects.exists()


def test_a_duplicate_event_id_is_acknowledged_without_a_second_effect(api, company, emitted):
    lists = [SubscriptionListFactory(company=company)]
    AcquisitionCampaignFactory(company=company, keyword="JOIN", lists=lists)
    first = sms(api, "JOIN", event_id="dup-1")
    second = sms(api, "JOIN", event_id="dup-1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["outcome"] == first.json()["outcome"] == "joined"
    assert InboundEvent.objects.count() == 1
    assert Participation.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
    assert emitted.types().count("ack_participant_added") == 1


def test_keyword_joins_a_single_opt_in_campaign_creating_the_person(api, company, emitted):
    lists = [SubscriptionListFactory(company=company)]
    campaign = AcquisitionCampaignFactory(company=company, keyword="JOIN", lists=lists)
    response = sms(api, "join")
    assert response.json()["outcome"] == "joined"
    person = Person.objects.get(mdn=MDN)
    subscription = Subscription.objects.get(person=person)
    assert subscription.acquisition_campaign_id == campaign.pk
    assert Participation.objects.get().source == "keyword"
    assert OutboundMessage.objects.get().kind == "welcome"
    assert emitted.types() == ["subscription_added", "ack_participant_added"]


def test_double_opt_in_end_to_end_keyword_then_yes(api, company, emitted):
    lists = [SubscriptionListFactory(company=company)]
    AcquisitionCampaignFactory(
        company=company, keyword="DEALS", lists=lists, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    assert sms(api, "DEALS").json()["outcome"] == "joined"
    assert Participation.objects.get().status == "PENDING"
    assert not Subscription.objects.exists()
    assert OutboundMessage.objects.get().kind == "confirmation_request"
    assert sms(api, "DEALS").json()["outcome"] == "already_pending"

    assert sms(api, "Yes").json()["outcome"] == "confirmed"
    assert Participation.objects.get().status == "CONFIRMED"
    assert Subscription.objects.filter(opt_out_date__isnull=True).count() == 1
    assert emitted.types() == [
        "ack_participant_added",
        "subscription_added",
        "ack_participant_changed",
    ]
    changed = emitted.of_type("ack_participant_changed")[0].body_v2["participant"]
    assert changed["status"] == "CONFIRMED"
    assert sms(api, "DEALS").json()["outcome"] == "already_subscribed"
    assert sms(api, "YES").json()["outcome"] == "nothing_pending"


def test_api_double_opt_in_confirmed_by_sms(api, company):
    lists = [SubscriptionListFactory(company=company)]
    campaign = AcquisitionCampaignFactory(
        company=company, lists=lists, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    url = f"/companies/ACME/campaigns/acquisition/{campaign.pk}/participants"
    assert api.post(url, {"mobile_phone": {"mdn": "2295551234"}}).json()["status"] == "PENDING"
    sms(api, "Y")
    assert Subscription.objects.filter(opt_out_date__isnull=True).count() == 1
    assert api.post(url, {"mobile_phone": {"mdn": "2295551234"}}).status_code == 409


def test_no_declines_a_pending_participation(api, company, emitted):
    lists = [SubscriptionListFactory(company=company)]
    AcquisitionCampaignFactory(
        company=company, keyword="DEALS", lists=lists, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    sms(api, "DEALS")
    assert sms(api, "no").json()["outcome"] == "declined"
    assert Participation.objects.get().status == "REJECTED"
    assert not Subscription.objects.exists()
    assert emitted.of_type("ack_participant_changed")[0].body_v1["participant"]["status"] == (
        "REJECTED"
    )


def test_stop_while_pending_rejects_the_participation(api, company):
    lists = [SubscriptionListFactory(company=company)]
    AcquisitionCampaignFactory(
        company=company, keyword="DEALS", lists=lists, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    sms(api, "DEALS")
    sms(api, "STOP")
    assert Participation.objects.get().status == "REJECTED"
    assert sms(api, "YES").json()["outcome"] == "nothing_pending"
    assert not Subscription.objects.exists()


def test_keyword_of_an_inactive_campaign_is_recorded(api, company):
    AcquisitionCampaignFactory(company=company, keyword="OLD", status="past")
    assert sms(api, "OLD").json()["outcome"] == "campaign_not_active"
    assert not Person.objects.exists()


def test_anything_else_is_recorded_as_unmatched(api, company):
    response = sms(api, "hello there")
    assert response.status_code == 201
    event = InboundEvent.objects.get()
    assert (event.outcome, event.message) == ("unmatched", "hello there")


def test_ten_digit_mdn_is_accepted(api, subscribed):
    assert sms(api, "STOP", mdn="2295551234").json()["outcome"] == "opted_out"


@pytest.mark.parametrize("mdn", ["12", "not a phone", ""])
def test_invalid_mdn_answers_400(api, company, mdn):
    response = sms(api, "STOP", mdn=mdn)
    assert response.status_code == 400
    assert not InboundEvent.objects.exists()


def test_invalid_mdn_has_the_mdn_error_code(api, company):
    assert error_codes(sms(api, "STOP", mdn="12")) == [ErrorCode.INVALID_MDN]


@pytest.mark.parametrize("missing", ["event_id", "mdn", "message", "event_type"])
def test_missing_field_answers_400(api, company, missing):
    body = {"event_id": "e1", "event_type": "inbound_message", "mdn": MDN, "message": "STOP"}
    del body[missing]
    response = api.post(EVENTS, body)
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.FIELD_REQUIRED]


def test_unknown_event_type_answers_400(api, company):
    assert sms(api, "STOP", event_type="delivery_receipt").status_code == 400


def test_bad_event_date_answers_400(api, company):
    assert sms(api, "STOP", event_date="yesterday").status_code == 400


def test_events_use_the_inbound_events_rate_class():
    assert InboundEventView.rate_class == "inbound_events"


def test_events_are_rate_limited_at_their_own_rate(api, company, settings):
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "inbound_events": 2, "company": 100}
    statuses = [sms(api, "hi").status_code for _ in range(6)]
    assert statuses[:2] == [201, 201] and 429 in statuses[2:]


def test_yes_after_the_campaign_ended_subscribes_nobody(api, company):
    lists = [SubscriptionListFactory(company=company)]
    campaign = AcquisitionCampaignFactory(
        company=company, keyword="DEALS", lists=lists, opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    sms(api, "DEALS")
    AcquisitionCampaign.objects.filter(pk=campaign.pk).update(status="past")
    assert sms(api, "YES").json()["outcome"] == "nothing_pending"
    assert not Subscription.objects.exists()
    assert Participation.objects.get().status == "PENDING"  # expires in its time


# --- the platform OpenAPI's body: {event_id, event_type, event_data} ---------------------


def documented(api, event_data: dict, event_type: str = "inbound_message", **extra):
    return api.post(EVENTS, {"event_type": event_type, "event_data": event_data, **extra})


def test_documented_body_applies_stop_and_answers_only_the_event_id(api, subscribed, emitted):
    body = {"mdn": MDN, "short_code": "12345", "message": "STOP"}
    response = documented(api, body, event_id="doc-1")
    assert response.status_code == 201
    assert response.json() == {"event_id": "doc-1"}
    event = InboundEvent.objects.get(event_id="doc-1")
    assert (event.outcome, event.short_code, event.message) == ("opted_out", "12345", "STOP")
    assert emitted.types() == ["subscription_removed", "subscription_removed"]


def test_documented_body_without_event_id_gets_one_assigned(api, company):
    response = documented(api, {"mdn": MDN, "message": "hello"})
    assert response.status_code == 201
    event_id = response.json()["event_id"]
    assert InboundEvent.objects.get(event_id=event_id).message == "hello"


@pytest.mark.parametrize("identifier", ["person_id", "person_key", "external_person_id"])
def test_documented_body_names_the_person_by_id_key_or_external_id(api, subscribed, identifier):
    person, _ = subscribed
    person.external_person_id = "crm-7"
    person.save()
    value = {
        "person_id": str(person.pk),
        "person_key": str(person.person_key),
        "external_person_id": "crm-7",
    }[identifier]
    response = documented(api, {identifier: value, "message": "STOP"}, event_id=f"p-{identifier}")
    assert response.status_code == 201
    assert InboundEvent.objects.get(event_id=f"p-{identifier}").outcome == "opted_out"
    assert not Subscription.objects.filter(person=person, opt_out_date__isnull=True).exists()


def test_documented_body_with_an_unknown_person_answers_404(api, company):
    response = documented(api, {"external_person_id": "nobody", "message": "STOP"})
    assert response.status_code == 404
    assert not InboundEvent.objects.exists()


def test_documented_body_without_any_identifier_answers_400(api, company):
    response = documented(api, {"message": "STOP"})
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.FIELD_REQUIRED]


def test_documented_body_of_another_event_type_is_recorded_not_applied(api, subscribed):
    response = documented(
        api, {"mdn": MDN, "order_id": "A-1"}, event_type="order_shipped", event_id="o-1"
    )
    assert response.status_code == 201
    assert response.json() == {"event_id": "o-1"}
    event = InboundEvent.objects.get(event_id="o-1")
    assert (event.event_type, event.outcome, event.person_id) == (
        "order_shipped",
        "unmatched",
        subscribed[0].pk,
    )
    assert Subscription.objects.filter(opt_out_date__isnull=True).count() == 2


def test_documented_body_duplicate_event_id_answers_200_once_applied(api, subscribed):
    body = {"mdn": MDN, "message": "STOP"}
    assert documented(api, body, event_id="dup").status_code == 201
    again = documented(api, body, event_id="dup")
    assert (again.status_code, again.json()) == (200, {"event_id": "dup"})


def test_flat_body_answers_the_mdn_in_the_request_api_version(api, company, api_user):
    v1 = sms(api, "hello", event_id="v1").json()
    v2 = sms(APIClient(api_user.username, version=2), "hello", event_id="v2").json()
    assert (v1["mdn"], v2["mdn"]) == ("2295551234", MDN)
