"""Google Wallet's save/delete callbacks (SPEC 10): verified with the ECv2SigningOnly keys
of settings (a test root key here), forged or malformed ones refused and logged; a save
or delete emits the same install/remove callbacks as Apple."""

from __future__ import annotations

import base64
import json
import struct
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from callbacks.models import CallbackEvent
from callbacks.services.delivery import deliveries_deliver_batch
from callbacks.services.registrations import registration_create
from tests.callbacks.receiver import Receiver
from wallet.google import object_id
from wallet.models import DeviceRegistration, WalletItem

pytestmark = pytest.mark.django_db
URL = "/wallet/google/callback"


def _lv(*parts: str) -> bytes:
    return b"".join(struct.pack("<I", len(p.encode())) + p.encode() for p in parts)


def _spki(key) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _sign(key, data: bytes) -> str:
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


class Google:
    """Signs callbacks as Google does (root key -> intermediate key -> message)."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self.root = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = ec.generate_private_key(ec.SECP256R1())

    def keys_json(self) -> str:
        expiry = str(int(time.time() * 1000) + 3_600_000)
        entry = {"keyValue": _spki(self.root), "protocolVersion": "ECv2SigningOnly",
                 "keyExpiration": expiry}  # fmt: skip
        return json.dumps({"keys": [entry]})

    def callback(self, message: dict, *, root=None, key_expiry_ms=None, recipient=None) -> bytes:
        expiry = key_expiry_ms or int(time.time() * 1000) + 3_600_000
        signed_key = json.dumps(
            {"keyValue": _spki(self.intermediate), "keyExpiration": str(expiry)}
        )
        signed_message = json.dumps(message)
        key_signature = _sign(
            root or self.root, _lv("GooglePayPasses", "ECv2SigningOnly", signed_key)
        )
        signature = _sign(
            self.intermediate,
            _lv("GooglePayPasses", recipient or self.issuer, "ECv2SigningOnly", signed_message),
        )
        return json.dumps(
            {
                "signature": signature,
                "intermediateSigningKey": {"signedKey": signed_key, "signatures": [key_signature]},
                "protocolVersion": "ECv2SigningOnly",
                "signedMessage": signed_message,
            }
        ).encode()


@pytest.fixture
def google(settings):
    signer = Google(settings.WALLET_GOOGLE_ISSUER_ID)
    settings.WALLET_GOOGLE_CALLBACK_KEYS = signer.keys_json()
    return signer


def message_for(item, event_type="save", **extra) -> dict:
    campaign = item.campaign
    body = {
        "classId": f"{object_id(item).split('.')[0]}.{campaign.wallet_id}",
        "objectId": object_id(item),
        "eventType": event_type,
        "expTimeMillis": int(time.time() * 1000) + 60_000,
        "count": 1,
        "nonce": "n-1",
    }
    body.update(extra)
    return body


def send(client, body: bytes):
    return client.post(URL, data=body, content_type="application/json")


def test_save_then_delete_installs_and_removes(client, google, item):
    assert send(client, google.callback(message_for(item))).status_code == 200
    item.refresh_from_db()
    assert item.active and item.provider == "google_wallet"
    assert send(client, google.callback(message_for(item))).status_code == 200  # a retry
    assert DeviceRegistration.objects.count() == 1
    assert send(client, google.callback(message_for(item, "del"))).status_code == 200
    item.refresh_from_db()
    assert not item.active


def test_save_and_delete_reach_the_callback_receiver(client, google, item, company):
    receiver = Receiver().start()
    try:
        for kind in ("wallet_item_install", "wallet_item_remove"):
            registration_create(company=company, callback_type=kind, url=receiver.url)
        send(client, google.callback(message_for(item)))
        send(client, google.callback(message_for(item, "del")))
        while deliveries_deliver_batch(limit=100, enqueue_more=False):
            pass
        bodies = [json.loads(r.body) for r in receiver.received]
    finally:
        receiver.stop()
    # deliveries go out in parallel: their order at the receiver is not fixed
    by_type = {b["callback_type"]: b for b in bodies}
    assert sorted(by_type) == ["wallet_item_install", "wallet_item_remove"]
    assert {b["wallet_instance"]["provider"] for b in bodies} == {"google"}
    assert by_type["wallet_item_install"]["wallet_item"]["uuid"] == item.uuid
    assert by_type["wallet_item_remove"]["wallet_instance"]["unregistered_at"]


def _refused(client, body: bytes, caplog) -> None:
    with caplog.at_level("WARNING", logger="vibesweb.wallet.passkit"):
        response = send(client, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["message"].startswith("callback rejected")
    assert "Google Wallet callback rejected" in caplog.text
    assert not DeviceRegistration.objects.exists()
    assert not CallbackEvent.objects.exists()


def test_a_forged_intermediate_key_is_refused_and_logged(client, google, item, caplog):
    impostor = ec.generate_private_key(ec.SECP256R1())
    _refused(client, google.callback(message_for(item), root=impostor), caplog)


def test_a_tampered_message_is_refused(client, google, item, caplog):
    body = json.loads(google.callback(message_for(item)))
    body["signedMessage"] = body["signedMessage"].replace('"save"', '"del"')
    _refused(client, json.dumps(body).encode(), caplog)


def test_a_message_for_another_issuer_is_refused(client, google, item, caplog):
    _refused(client, google.callback(message_for(item), recipient="999"), caplog)


def test_an_expired_intermediate_key_is_refused(client, google, item, caplog):
    _refused(client, google.callback(message_for(item), key_expiry_ms=1000), caplog)


def test_an_expired_message_is_refused(client, google, item, caplog):
    _refused(client, google.callback(message_for(item, expTimeMillis=1000)), caplog)


def test_a_bad_expiry_or_event_type_is_refused(client, google, item, caplog):
    _refused(client, google.callback(message_for(item, expTimeMillis="soon")), caplog)
    _refused(client, google.callback(message_for(item, eventType="update")), caplog)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"protocolVersion": "ECv2SigningOnly"}',
     b'{"signature": 1, "intermediateSigningKey": {"signedKey": "x", "signatures": []},'
     b' "protocolVersion": "ECv2SigningOnly", "signedMessage": "{}"}',
     b'{"signature": "a", "intermediateSigningKey": {"signedKey": "x", "signatures": ["b"]},'
     b' "protocolVersion": "ECv1", "signedMessage": "{}"}'],
)  # fmt: skip
def test_malformed_callbacks_are_refused(client, google, item, caplog, body):
    _refused(client, body, caplog)


def test_without_configured_keys_every_callback_is_refused(client, google, item, settings, caplog):
    body = google.callback(message_for(item))
    settings.WALLET_GOOGLE_CALLBACK_KEYS = ""
    _refused(client, body, caplog)


def test_an_unknown_object_is_404(client, google, item):
    message = message_for(item, objectId=object_id(item) + "x")
    assert send(client, google.callback(message)).status_code == 404
    assert not WalletItem.objects.filter(active=True).exists()
