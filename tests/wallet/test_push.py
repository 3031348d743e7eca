"""Updates reach phones (SPEC 10): pushes through the pluggable backend; the APNs backend
speaks HTTP/2 over TLS with the pass certificate to a local server answering as Apple."""

from __future__ import annotations

import pytest

from wallet.models import DeviceRegistration, WalletPush
from wallet.passkit.certificates import pass_credentials
from wallet.push import _backend_class
from wallet.services.campaigns import wallet_campaign_update
from wallet.services.installs import device_register
from wallet.services.items import wallet_item_update
from wallet.services.push import pushes_send

from .apns_server import APNsServer

pytestmark = pytest.mark.django_db


def register(item, device, token, provider="apple"):
    device_register(
        item=item, device_library_identifier=device, push_token=token, provider=provider
    )


def test_every_registered_apple_device_gets_a_push_on_change(
    item, django_capture_on_commit_callbacks
):
    register(item, "phone", "tok-phone")
    register(item, "watch", "tok-watch")
    register(item, "google:obj", "", provider="google")
    with django_capture_on_commit_callbacks(execute=True):
        wallet_item_update(item=item, fields={"tokens": {"first_name": "Zed"}})
    pushes = WalletPush.objects.order_by("push_token")
    assert [p.push_token for p in pushes] == ["tok-phone", "tok-watch"]
    assert {p.backend for p in pushes} == {"database"}


def test_unregistered_devices_get_no_push(item, django_capture_on_commit_callbacks):
    register(item, "phone", "tok-phone")
    DeviceRegistration.objects.update(unregistered_at="2026-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        wallet_item_update(item=item, fields={"tokens": {"first_name": "Zed"}})
    assert not WalletPush.objects.exists()


@pytest.fixture
def apns(tmp_path, settings):
    credentials = pass_credentials()
    server = APNsServer(tmp_path, [credentials.root_file, str(credentials.cert_file)])
    # The server trusts the chain: root and the WWDR-like intermediate.
    server.context.load_verify_locations(str(credentials.cert_file).replace("pass.pem", "wwdr.pem"))
    server.start()
    settings.WALLET_PUSH_BACKEND = "wallet.push.APNsPushBackend"
    settings.WALLET_APNS_URL = server.url
    settings.WALLET_APNS_CA_FILE = str(server.ca_file)
    _backend_class.cache_clear()
    yield server
    server.stop()
    _backend_class.cache_clear()


def test_apns_backend_posts_over_http2_with_the_pass_certificate(item, apns, settings):
    register(item, "phone", "goodtoken")
    register(item, "old-phone", "expiredtoken")
    apns.gone.add("expiredtoken")
    assert pushes_send(item_ids=[item.pk]) == 2, apns.errors
    by_path = {push.path: push for push in apns.pushes}
    good = by_path["/3/device/goodtoken"]
    assert good.headers[":method"] == "POST"
    assert good.headers["apns-topic"] == settings.WALLET_PASS_TYPE_ID
    assert good.body == b"{}"
    assert good.client_subject == f"Pass Type ID: {settings.WALLET_PASS_TYPE_ID}"
    outcomes = dict(WalletPush.objects.values_list("push_token", "status"))
    assert outcomes == {"goodtoken": "sent", "expiredtoken": "failed"}
    failed = WalletPush.objects.get(push_token="expiredtoken")
    assert failed.backend == "apns"
    assert "410" in failed.detail and "Unregistered" in failed.detail


def test_apns_backend_records_a_failure_when_apple_is_unreachable(item, settings):
    settings.WALLET_PUSH_BACKEND = "wallet.push.APNsPushBackend"
    settings.WALLET_APNS_URL = "https://127.0.0.1:9"  # nothing listens there
    _backend_class.cache_clear()
    register(item, "phone", "tok")
    pushes_send(item_ids=[item.pk])
    _backend_class.cache_clear()
    push = WalletPush.objects.get()
    assert push.status == "failed"
    assert push.detail


def test_a_design_change_reaches_every_installed_pass(
    item, campaign, django_capture_on_commit_callbacks
):
    register(item, "phone", "tok-phone")
    before = item.update_tag
    with django_capture_on_commit_callbacks(execute=True):
        wallet_campaign_update(campaign=campaign, fields={"design": {"logo_text": "New"}})
    item.refresh_from_db()
    assert item.update_tag > before
    assert WalletPush.objects.get().push_token == "tok-phone"


def test_a_rename_alone_pushes_nothing(item, campaign, django_capture_on_commit_callbacks):
    register(item, "phone", "tok-phone")
    with django_capture_on_commit_callbacks(execute=True):
        wallet_campaign_update(campaign=campaign, fields={"name": "Renamed"})
    assert not WalletPush.objects.exists()
