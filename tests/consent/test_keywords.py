"""HELP, STOP and its synonyms, START/UNSTOP on inbound messages (SPEC section 13)."""

from __future__ import annotations

import itertools

import pytest

from campaigns.models import MessagingProgram
from campaigns.services.acquisition import keyword_problem
from mobiledb.broadcasts.messaging import message_send, messages_send
from mobiledb.models import ConsentRecord, OutboundMessage, Subscription, SuppressedNumber
from tests.factories import PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory

pytestmark = pytest.mark.django_db
EVENTS = "/companies/ACME/events"
MDN = "+12295551234"
_ids = itertools.count(1)


def sms(api, message: str, mdn: str = MDN, short_code: str = "12345"):
    body = {
        "event_id": f"kw-{next(_ids)}",
        "event_type": "inbound_message",
        "mdn": mdn,
        "short_code": short_code,
        "message": message,
    }
    response = api.post(EVENTS, body)
    assert response.status_code == 201, response.content
    return response.json()


def sent_to(mdn: str = MDN, kind: str | None = None) -> list[OutboundMessage]:
    messages = OutboundMessage.objects.filter(mdn=mdn).order_by("id")
    return list(messages.filter(kind=kind) if kind else messages)


@pytest.fixture
def subscriber(api, company):
    """A person on two lists, subscribed through the API (so the ledger has opt-ins)."""
    person = PersonFactory(company=company, mdn=MDN)
    lists = [SubscriptionListFactory(company=company) for _ in range(2)]
    for subscription_list in lists:
        path = f"/companies/ACME/mobiledb/persons/{person.pk}/subscriptions/{subscription_list.pk}"
        assert api.put(path, {}).status_code in (200, 201)
    return person, lists


@pytest.mark.parametrize(
    "message",
    [
        "STOP",
        "stop",
        "Stop.",
        "STOP!!!",
        "stopall",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "QUIT",
        "revoke",
        "OPTOUT",
        "Opt out",
        "opt-out",
        "STOP ALL",
        "stop sending me these",
    ],
)
def test_every_stop_synonym_opts_out_of_everything_and_confirms_once(api, subscriber, message):
    person, lists = subscriber
    assert sms(api, message)["outcome"] == "opted_out"
    assert not Subscription.objects.filter(person=person, opt_out_date__isnull=True).exists()
    confirmations = sent_to(kind=OutboundMessage.Kind.STOP_CONFIRMATION)
    assert len(confirmations) == 1
    assert "no further messages" in confirmations[0].body
    assert SuppressedNumber.objects.filter(company=person.company, mdn=MDN).exists()


def test_nothing_else_reaches_a_number_that_texted_stop(api, company, subscriber):
    person, lists = subscriber
    sms(api, "STOP")
    before = len(sent_to())
    # a broadcast batch, a campaign reply, a wallet notification by SMS, a plain message
    for kind in ["broadcast", "welcome", "confirmation_request", "wallet", "other"]:
        message_send(company=company, person=person, body="hello", kind=kind)
    sent = messages_send(
        [OutboundMessage(company=company, person=person, mdn=MDN, body="x", kind="broadcast")]
    )
    assert sent == 0
    assert len(sent_to()) == before


def test_stop_silences_only_the_number_that_sent_it(api, company, subscriber):
    person, lists = subscriber
    other = PersonFactory(company=company, mdn="+12295550000")
    api.put(f"/companies/ACME/mobiledb/persons/{other.pk}/subscriptions/{lists[0].pk}", {})
    sms(api, "STOP")
    assert message_send(company=company, person=other, body="hi", kind="broadcast") is not None
    assert message_send(company=company, person=person, body="hi", kind="broadcast") is None


def test_stop_from_an_unknown_number_is_recorded_and_confirmed(api, company):
    assert sms(api, "STOP", mdn="+12295559999")["outcome"] == "unknown_mdn"
    record = ConsentRecord.objects.get(company=company, mdn="+12295559999")
    assert (record.action, record.channel, record.text) == ("opt_out", "keyword", "STOP")
    assert record.subscription_list_id is None
    assert len(sent_to("+12295559999", OutboundMessage.Kind.STOP_CONFIRMATION)) == 1


def test_help_answers_the_programs_help_text(api, company):
    MessagingProgram.objects.create(
        company=company, short_code="12345", program_name="Acme Deals", contact="1-800-555-0100"
    )
    assert sms(api, "help")["outcome"] == "help_sent"
    (answer,) = sent_to(kind=OutboundMessage.Kind.HELP)
    assert "Acme Deals" in answer.body
    assert "1-800-555-0100" in answer.body
    assert "Reply STOP to cancel" in answer.body
    assert "rates may apply" in answer.body


def test_help_uses_the_short_codes_own_program_over_the_default(api, company):
    MessagingProgram.objects.create(
        company=company, short_code="", program_name="Default", contact="x", help_text="DEFAULT"
    )
    MessagingProgram.objects.create(
        company=company, short_code="777", program_name="Own", contact="y", help_text="OWN"
    )
    sms(api, "INFO", short_code="777")
    sms(api, "INFO", mdn="+12295550001", short_code="12345")
    assert sent_to(kind="help")[0].body == "OWN"
    assert sent_to("+12295550001", "help")[0].body == "DEFAULT"


def test_a_help_storm_from_one_number_is_answered_once_a_minute(api, company):
    outcomes = [sms(api, "HELP")["outcome"] for _ in range(5)]
    assert outcomes == ["help_sent"] + ["help_throttled"] * 4
    assert len(sent_to(kind="help")) == 1
    assert sms(api, "HELP", mdn="+12295550002")["outcome"] == "help_sent"


def test_help_is_answered_even_after_stop(api, subscriber):
    sms(api, "STOP")
    sms(api, "HELP")
    assert len(sent_to(kind="help")) == 1


def test_start_subscribes_again_what_stop_ended_with_new_consent(api, company, subscriber):
    person, lists = subscriber
    unrelated = SubscriptionListFactory(company=company)
    sms(api, "STOP")
    result = sms(api, "start")
    assert result["outcome"] == "resubscribed"
    active = Subscription.objects.filter(person=person, opt_out_date__isnull=True)
    assert sorted(active.values_list("subscription_list_id", flat=True)) == sorted(
        item.pk for item in lists
    )
    assert not active.filter(subscription_list=unrelated).exists()
    # history kept: the old rows are opted out, the new ones are new rows
    assert Subscription.objects.filter(person=person).count() == 4
    opt_ins = ConsentRecord.objects.filter(person_id=person.pk, action="opt_in", channel="keyword")
    assert opt_ins.count() == 2
    assert set(opt_ins.values_list("text", flat=True)) == {"start"}
    assert not SuppressedNumber.objects.filter(mdn=MDN).exists()
    assert message_send(company=company, person=person, body="hi", kind="broadcast") is not None


def test_unstop_without_a_previous_stop_changes_nothing(api, subscriber):
    assert sms(api, "UNSTOP")["outcome"] == "nothing_pending"
    assert not sent_to(kind="other")


def test_a_campaign_keyword_after_stop_is_new_consent(api, company, subscriber):
    person, lists = subscriber
    campaign = AcquisitionCampaignFactory(company=company, keyword="JOIN")
    campaign.subscription_lists.add(lists[0])
    sms(api, "STOP")
    assert sms(api, "join now")["outcome"] == "joined"
    assert Subscription.objects.filter(
        person=person, subscription_list=lists[0], opt_out_date__isnull=True
    ).exists()
    assert not SuppressedNumber.objects.filter(mdn=MDN).exists()


def test_stop_words_cannot_be_campaign_keywords(api, company):
    for word in ["REVOKE", "OPTOUT", "START", "UNSTOP", "HELP"]:
        assert keyword_problem(company=company, keyword=word)
