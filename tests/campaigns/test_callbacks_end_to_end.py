"""Single and double opt-in, and STOP, end to end: the callbacks reach a real local HTTP
receiver with the seeds' bodies."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from callbacks.services import delivery, registrations
from campaigns.models import AcquisitionCampaign
from tests.factories import PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import AcquisitionCampaignFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
TYPES = [
    "subscription_added",
    "subscription_removed",
    "ack_participant_added",
    "ack_participant_changed",
]


class Receiver:
    """A stdlib HTTP server on port 0 recording each JSON body; answers 200."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                received.append(
                    (self.headers.get("X-Event-Type"), json.loads(self.rfile.read(length)))
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self, callback_type: str) -> list[dict]:
        return [body for kind, body in self.received if kind == callback_type]


@pytest.fixture
def receiver(company):
    server = Receiver()
    for callback_type in TYPES:
        registrations.registration_create(
            company=company, callback_type=callback_type, url=server.url, api_version=2
        )
    yield server
    server.server.shutdown()


def deliver_all() -> None:
    while delivery.deliveries_deliver_batch(limit=100, enqueue_more=False):
        pass


def sms(api, message: str, event_id: str):
    body = {
        "event_id": event_id,
        "event_type": "inbound_message",
        "mdn": "+12295551234",
        "short_code": "12345",
        "message": message,
    }
    return api.post("/companies/ACME/events", body)


def test_single_opt_in_by_api_delivers_subscription_added_and_ack(api, company, receiver):
    main = SubscriptionListFactory(company=company)
    campaign = AcquisitionCampaignFactory(company=company, lists=[main])
    url = f"/companies/ACME/campaigns/acquisition/{campaign.pk}/participants"
    response = api.post(
        url, {"external_person_id": "ex1234", "mobile_phone": {"mdn": "2295551234"}}
    )
    assert response.status_code == 201
    deliver_all()
    [added] = receiver.bodies("subscription_added")
    assert added["callback_type"] == added["event_type"] == "subscription_added"
    subscription = added["subscription"]
    # field for field (key order is the store's: PostgreSQL's jsonb sorts keys)
    assert set(subscription) == {
        "person",
        "subscription_list",
        "opt_in_date",
        "acquisition_campaign",
        "url",
    }
    assert subscription["person"]["external_id"] == "ex1234"
    assert subscription["acquisition_campaign"]["id"] == str(campaign.pk)
    [ack] = receiver.bodies("ack_participant_added")
    assert ack["participant"]["status"] == "SUBSCRIBED"
    assert ack["participant"]["person"]["mobile_phone"]["mdn"] == "+12295551234"  # version 2


def test_double_opt_in_by_keyword_then_yes(api, company, receiver):
    main = SubscriptionListFactory(company=company)
    AcquisitionCampaignFactory(
        company=company, keyword="DEALS", lists=[main], opt_in=AcquisitionCampaign.OptIn.DOUBLE
    )
    sms(api, "DEALS", "e1")
    deliver_all()
    assert [b["participant"]["status"] for b in receiver.bodies("ack_participant_added")] == [
        "PENDING"
    ]
    assert receiver.bodies("subscription_added") == []
    sms(api, "YES", "e2")
    deliver_all()
    assert [b["participant"]["status"] for b in receiver.bodies("ack_participant_changed")] == [
        "CONFIRMED"
    ]
    [added] = receiver.bodies("subscription_added")
    assert added["subscription"]["subscription_list"]["id"] == str(main.pk)


def test_stop_delivers_subscription_removed_with_user_opt_out_for_each_list(api, company, receiver):
    person = PersonFactory(company=company, mdn="+12295551234")
    lists = [SubscriptionListFactory(company=company) for _ in range(2)]
    for subscription_list in lists:
        SubscriptionFactory(person=person, subscription_list=subscription_list)
    sms(api, "STOP", "e3")
    deliver_all()
    removed = receiver.bodies("subscription_removed")
    assert sorted(b["subscription"]["subscription_list"]["id"] for b in removed) == sorted(
        str(x.pk) for x in lists
    )
    assert {b["subscription"]["opt_out_reason"] for b in removed} == {"user_opt_out"}
