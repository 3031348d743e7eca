"""Apple's PassKit web service driven over real HTTP exactly as iOS calls it, with the
install/remove callbacks received by a real local HTTP receiver (SPEC 10)."""

from __future__ import annotations

import email.utils
import io
import json
import zipfile

import pytest
import requests

from callbacks.services.delivery import deliveries_deliver_batch
from tests.callbacks.receiver import Receiver
from wallet.models import DeviceRegistration, WalletItem, WalletPush
from wallet.services.campaigns import wallet_campaign_create
from wallet.services.items import wallet_item_open

from .conftest import DESIGN

pytestmark = pytest.mark.django_db(transaction=True)
DEVICE = "d3v1c3library1d"
PUSH_TOKEN = "a1b2c3d4e5f6"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def registered_hooks(api, campaign, receiver):
    for callback_type in ("wallet_item_install", "wallet_item_remove"):
        response = api.post(
            "/companies/ACME/config/callbacks",
            {
                "callback_type": callback_type,
                "destination": {"url": receiver.url, "method": "POST"},
                callback_type: {"campaign_token": campaign.wallet_id},
            },
        )
        assert response.status_code == 201, response.content
    return receiver


class Phone:
    """Speaks to webServiceURL as iOS does."""

    def __init__(self, pass_json: dict):
        self.base = pass_json["webServiceURL"].rstrip("/")
        self.pass_type = pass_json["passTypeIdentifier"]
        self.serial = pass_json["serialNumber"]
        self.auth = {"Authorization": f"ApplePass {pass_json['authenticationToken']}"}

    def register(self, device=DEVICE, token=None, serial=None):
        path = f"/v1/devices/{device}/registrations/{self.pass_type}/{serial or self.serial}"
        return requests.post(
            self.base + path,
            json={"pushToken": PUSH_TOKEN},
            headers=self.auth if token is None else token,
            timeout=10,
        )

    def unregister(self, device=DEVICE, token=None):
        return requests.delete(
            f"{self.base}/v1/devices/{device}/registrations/{self.pass_type}/{self.serial}",
            headers=self.auth if token is None else token,
            timeout=10,
        )

    def serials(self, since=None, device=DEVICE):
        query = {"passesUpdatedSince": since} if since else {}
        return requests.get(
            f"{self.base}/v1/devices/{device}/registrations/{self.pass_type}",
            params=query,
            timeout=10,
        )

    def latest(self, modified_since=None, token=None):
        headers = dict(self.auth if token is None else token)
        if modified_since:
            headers["If-Modified-Since"] = modified_since
        return requests.get(
            f"{self.base}/v1/passes/{self.pass_type}/{self.serial}", headers=headers, timeout=10
        )


def deliver_all() -> None:
    while deliveries_deliver_batch(limit=100, enqueue_more=False):
        pass


def add_pass(live_server, campaign) -> tuple[Phone, dict]:
    """Open the SmartLink and download the pass, as Safari does on the phone."""
    link = f"{live_server.url}/c/{campaign.wallet_id}?uuid=ser-1&data[first_name]=Ann"
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    download = requests.get(f"{live_server.url}/c/{campaign.wallet_id}/ser-1.pkpass", timeout=10)
    pass_json = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("pass.json"))
    return Phone(pass_json), pass_json


def test_full_lifecycle_as_ios_drives_it(live_server, campaign, registered_hooks):
    phone, pass_json = add_pass(live_server, campaign)
    assert pass_json["webServiceURL"] == f"{live_server.url}/passkit/"

    assert phone.register().status_code == 201
    assert phone.register().status_code == 200  # already registered
    item = WalletItem.objects.get(uuid="ser-1")
    assert item.active and item.provider == "passbook"

    listed = phone.serials()
    assert listed.status_code == 200
    assert listed.json()["serialNumbers"] == ["ser-1"]
    tag = listed.json()["lastUpdated"]
    assert phone.serials(since=tag).status_code == 204

    latest = phone.latest()
    assert latest.status_code == 200
    assert latest.headers["Content-Type"] == "application/vnd.apple.pkpass"
    assert phone.latest(modified_since=latest.headers["Last-Modified"]).status_code == 304

    assert (
        requests.post(
            f"{phone.base}/v1/log", json={"logs": ["something went wrong"]}, timeout=10
        ).status_code
        == 200
    )

    assert phone.unregister().status_code == 200
    item.refresh_from_db()
    assert not item.active

    deliver_all()
    bodies = {
        json.loads(r.body)["callback_type"]: json.loads(r.body) for r in registered_hooks.received
    }
    assert set(bodies) == {"wallet_item_install", "wallet_item_remove"}
    install = bodies["wallet_item_install"]
    assert install["wallet_instance"]["provider"] == "apple"
    assert install["wallet_instance"]["registered_at"]
    assert install["wallet_instance"]["unregistered_at"] is None
    assert install["wallet_item"]["uuid"] == "ser-1"
    assert install["wallet_item"]["tokens"] == {"first_name": "Ann"}
    assert install["wallet_item"]["url"] == f"{campaign.url}/items/ser-1"
    assert install["wallet_campaign"]["token"] == campaign.wallet_id
    assert install["wallet_campaign"]["url"] == campaign.url
    remove = bodies["wallet_item_remove"]
    assert remove["wallet_instance"]["unregistered_at"]
    assert (
        remove["wallet_instance"]["wallet_instance_uid"]
        == install["wallet_instance"]["wallet_instance_uid"]
    )


def test_a_change_is_listed_since_the_last_tag_and_pushed(live_server, api, campaign):
    phone, _ = add_pass(live_server, campaign)
    phone.register()
    tag = phone.serials().json()["lastUpdated"]
    modified = phone.latest().headers["Last-Modified"]
    response = api.put(
        f"/companies/ACME/campaigns/wallet/{campaign.wallet_id}/items/ser-1",
        {"passbook": {"notification": "Double points"}},
    )
    assert response.status_code == 200
    changed = phone.serials(since=tag)
    assert changed.status_code == 200
    assert changed.json()["serialNumbers"] == ["ser-1"]
    assert int(changed.json()["lastUpdated"]) > int(tag)
    push = WalletPush.objects.get()
    assert (push.push_token, push.backend, push.status) == (PUSH_TOKEN, "database", "sent")
    # A second later than what the phone holds: the new pass, not a 304.
    later = email.utils.formatdate(
        email.utils.parsedate_to_datetime(modified).timestamp() - 1, usegmt=True
    )
    fresh = phone.latest(modified_since=later)
    assert fresh.status_code == 200
    document = json.loads(zipfile.ZipFile(io.BytesIO(fresh.content)).read("pass.json"))
    assert document["storeCard"]["backFields"][0]["value"] == "Double points"


def test_the_last_unregistration_alone_emits_remove(live_server, campaign, registered_hooks):
    phone, _ = add_pass(live_server, campaign)
    phone.register(device="phone-a")
    phone.register(device="watch-b")
    phone.unregister(device="phone-a")
    assert WalletItem.objects.get().active
    phone.unregister(device="watch-b")
    deliver_all()
    kinds = [json.loads(r.body)["callback_type"] for r in registered_hooks.received]
    assert sorted(kinds) == ["wallet_item_install", "wallet_item_remove"]
    assert DeviceRegistration.objects.filter(unregistered_at__isnull=False).count() == 2


def test_wrong_apple_pass_token_is_401_and_registers_nothing(live_server, campaign):
    phone, _ = add_pass(live_server, campaign)
    wrong = {"Authorization": "ApplePass not-the-token"}
    assert phone.register(token=wrong).status_code == 401
    assert phone.register(token={"Authorization": "Basic abc"}).status_code == 401
    assert phone.register(token={}).status_code == 401
    assert phone.latest(token=wrong).status_code == 401
    assert phone.unregister(token=wrong).status_code == 401
    assert not DeviceRegistration.objects.exists()


def test_unknown_serial_or_pass_type_is_404(live_server, campaign):
    phone, _ = add_pass(live_server, campaign)
    assert phone.register(serial="nope").status_code == 404
    phone.pass_type = "pass.com.other"
    assert phone.register().status_code == 404
    assert phone.serials().status_code == 404
    assert not DeviceRegistration.objects.exists()


def test_registration_body_without_push_token_is_400(live_server, campaign):
    phone, _ = add_pass(live_server, campaign)
    url = f"{phone.base}/v1/devices/{DEVICE}/registrations/{phone.pass_type}/{phone.serial}"
    for body in (b"", b"not json", b"[]", b'{"pushToken": 5}'):
        assert requests.post(url, data=body, headers=phone.auth, timeout=10).status_code == 400
    assert not DeviceRegistration.objects.exists()


def test_log_body_must_hold_logs(live_server, db):
    response = requests.post(f"{live_server.url}/passkit/v1/log", data=b"{]", timeout=10)
    assert response.status_code == 400


def test_a_hook_scoped_to_another_campaign_hears_nothing(live_server, api, company, receiver):
    other = wallet_campaign_create(company=company, fields={"name": "B", "type": "offer"})
    campaign = wallet_campaign_create(
        company=company, fields={"name": "A", "type": "loyalty", "design": DESIGN}
    )
    api.post(
        "/companies/ACME/config/callbacks",
        {
            "callback_type": "wallet_item_install",
            "destination": {"url": receiver.url},
            "wallet_item_install": {"campaign_token": other.wallet_id},
        },
    )
    wallet_item_open(campaign=campaign, wallet_item_id="x", tokens={})
    phone, _ = add_pass(live_server, campaign)
    phone.register()
    deliver_all()
    assert receiver.received == []
