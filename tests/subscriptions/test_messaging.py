"""The pluggable message backend (SPEC section 5)."""

from __future__ import annotations

import logging

import pytest

from mobiledb.messaging import MessageBackend, message_send
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
