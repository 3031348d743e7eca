"""The signed .pkpass (SPEC 10): taken apart as Wallet does, its signature verified by the
real `openssl smime -verify`, every manifest hash checked."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
from cryptography import x509

from wallet.passkit.certificates import dev_material_dir, pass_credentials

pytestmark = pytest.mark.django_db


def download(client, campaign, item) -> zipfile.ZipFile:
    response = client.get(f"/c/{campaign.wallet_id}/{item.uuid}.pkpass")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.pkpass"
    return zipfile.ZipFile(io.BytesIO(response.content))


def openssl_verify(
    bundle: zipfile.ZipFile, tmp_path: Path, ca_file: str
) -> subprocess.CompletedProcess:
    for name in ("signature", "manifest.json"):
        (tmp_path / name).write_bytes(bundle.read(name))
    return subprocess.run(
        [
            "openssl", "smime", "-verify", "-binary", "-inform", "DER",
            "-in", str(tmp_path / "signature"),
            "-content", str(tmp_path / "manifest.json"),
            "-CAfile", ca_file,
            "-out", "/dev/null",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip


def test_openssl_verifies_the_signature_with_the_development_root(client, campaign, item, tmp_path):
    bundle = download(client, campaign, item)
    result = openssl_verify(bundle, tmp_path, pass_credentials().root_file)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_a_tampered_manifest_fails_openssl(client, campaign, item, tmp_path):
    bundle = download(client, campaign, item)
    openssl_verify(bundle, tmp_path, pass_credentials().root_file)
    (tmp_path / "manifest.json").write_bytes(bundle.read("manifest.json").replace(b"{", b"{ ", 1))
    result = subprocess.run(
        ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in",
         str(tmp_path / "signature"), "-content", str(tmp_path / "manifest.json"),
         "-CAfile", pass_credentials().root_file, "-out", "/dev/null"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0


def test_the_signature_carries_the_wwdr_intermediate(client, campaign, item, tmp_path):
    bundle = download(client, campaign, item)
    (tmp_path / "signature").write_bytes(bundle.read("signature"))
    printed = subprocess.run(
        ["openssl", "pkcs7", "-inform", "DER", "-in", str(tmp_path / "signature"), "-print_certs"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "WWDR" in printed
    assert "Pass Type ID" in printed


def test_every_file_is_in_the_manifest_with_its_sha1(client, campaign, item):
    bundle = download(client, campaign, item)
    manifest = json.loads(bundle.read("manifest.json"))
    files = set(bundle.namelist()) - {"manifest.json", "signature"}
    assert files == set(manifest)
    assert {"pass.json", "icon.png"} <= files
    for name in files:
        assert manifest[name] == hashlib.sha1(bundle.read(name)).hexdigest()


def test_pass_json_is_filled_from_the_tokens(client, campaign, item, settings):
    document = json.loads(download(client, campaign, item).read("pass.json"))
    assert document["formatVersion"] == 1
    assert document["passTypeIdentifier"] == settings.WALLET_PASS_TYPE_ID
    assert document["teamIdentifier"] == settings.WALLET_TEAM_ID
    assert document["serialNumber"] == "item-1"
    assert document["authenticationToken"] == item.authentication_token
    assert len(document["authenticationToken"]) >= 16
    assert document["webServiceURL"] == "http://testserver/passkit/"
    assert document["backgroundColor"] == "rgb(30, 58, 138)"
    card = document["storeCard"]
    assert card["primaryFields"] == [{"key": "name", "label": "Member", "value": "Ann"}]
    assert card["headerFields"][0]["value"] == "120"
    assert document["barcodes"][0]["message"] == "A1"


def test_web_service_url_follows_site_url(client, campaign, item, settings):
    settings.SITE_URL = "https://passes.example.com"
    document = json.loads(download(client, campaign, item).read("pass.json"))
    assert document["webServiceURL"] == "https://passes.example.com/passkit/"


def test_the_pass_type_id_is_in_the_certificate_subject(settings):
    subject = pass_credentials().certificate.subject
    uid = subject.get_attributes_for_oid(x509.ObjectIdentifier("0.9.2342.19200300.100.1.1"))
    assert uid[0].value == settings.WALLET_PASS_TYPE_ID


def test_unknown_item_pkpass_is_404(client, campaign):
    assert client.get(f"/c/{campaign.wallet_id}/nope.pkpass").status_code == 404
    assert client.get("/c/nope/nope.pkpass").status_code == 404


def test_development_material_is_generated_once_under_concurrent_first_use(tmp_path, settings):
    settings.WALLET_DEV_CERT_DIR = str(tmp_path)
    calls = []

    def generate(directory: Path) -> None:
        calls.append(directory)
        (directory / "key").write_text(str(len(calls)))

    barrier = threading.Barrier(4)
    results = []

    def first_use():
        barrier.wait()
        results.append((dev_material_dir("race", generate) / "key").read_text())

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1  # every caller uses the one winner's files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race"]  # losers cleaned up
    before = len(calls)
    dev_material_dir("race", generate)
    assert len(calls) == before  # reused afterwards


def test_configured_certificates_are_used_instead(tmp_path, settings, wallet_dev_dir):
    dev = Path(pass_credentials().cert_file).parent
    settings.WALLET_PASS_CERT_FILE = str(dev / "pass.pem")
    settings.WALLET_PASS_KEY_FILE = str(dev / "pass.key")
    settings.WALLET_WWDR_CERT_FILE = str(dev / "wwdr.pem")
    pass_credentials.cache_clear()
    credentials = pass_credentials()
    assert not credentials.development
    assert credentials.cert_file == settings.WALLET_PASS_CERT_FILE
