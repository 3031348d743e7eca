"""The pluggable message backend (SPEC section 5)."""

from __future__ import annotations

import logging

import pytest

from mobiledb.broadcasts.messaging import MessageBackend, message_send
from mobiledb.models import OutboundMessage
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

SENT: list = []


class RecordingBackend(MessageBackend):
    name = "recording"

    def send_messages(self, messages):
        SENT.extend(messages)


def test_default_backend_stores_and_logs_each_message(company, caplog):
    person = PersonFactory(company=company, mdn="+12995551234")
    with caplog.at_level(logging.INFO, logger="vibesweb.messages"):
        message_send(company=company, person=person, body="Hello", kind="other")
    stored = OutboundMessage.objects.get()
    assert (stored.mdn, stored.body, stored.backend) == ("+12995551234", "Hello", "database")
    assert "SMS to +12995551234" in caplog.text


def test_backend_is_chosen_by_setting(company, settings):
    settings.MESSAGE_BACKEND = f"{__name__}.RecordingBackend"
    person = PersonFactory(company=company)
    message_send(company=company, person=person, body="Hi", kind="other")
    assert [m.body for m in SENT] == ["Hi"]
    assert not OutboundMessage.objects.exists()


def test_a_person_without_mdn_gets_nothing(company):
    person = PersonFactory(company=company, mdn=None)
    assert message_send(company=company, person=person, body="Hi", kind="other") is None
    assert not OutboundMessage.objects.exists()


def test_an_opted_out_subscriber_gets_no_message(company):
    from django.utils import timezone

    from tests.subscriptions.helpers import SubscriptionFactory

    person = PersonFactory(company=company)
    SubscriptionFactory(person=person, opt_out_date=timezone.now(), opt_out_reason="user_opt_out")
    assert message_send(company=company, person=person, body="Offer", kind="wallet") is None
    assert not OutboundMessage.objects.exists()


def test_an_opted_out_person_who_opts_in_again_gets_the_confirmation_request(company):
    from django.utils import timezone

    from tests.subscriptions.helpers import SubscriptionFactory

    person = PersonFactory(company=company)
    SubscriptionFactory(person=person, opt_out_date=timezone.now(), opt_out_reason="user_opt_out")
    sent = message_send(
        company=company, person=person, body="Reply YES", kind="confirmation_request"
    )
    assert sent is not None
