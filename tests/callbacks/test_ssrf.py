"""Destinations on private addresses are refused at registration and at connect time."""

from __future__ import annotations

import ipaddress

import pytest

from callbacks.destinations import InvalidDestination, address_forbidden, destination_check
from callbacks.models import CallbackDelivery
from callbacks.services.delivery import deliveries_deliver_batch
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import PersonFactory

REFUSED_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",  # 127.0.0.1 as one number
    "localhost",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
]


@pytest.fixture
def private_off(settings):
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = False


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_private_destination_is_refused_at_registration(private_off, host):
    with pytest.raises(InvalidDestination):
        destination_check(f"http://{host}:8080/hook")


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "http://[2606:4700::1111]/x"])
def test_public_destination_is_accepted(private_off, url):
    assert destination_check(url) == url


def test_private_destination_is_accepted_when_the_setting_allows(settings):
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = True
    assert destination_check("http://127.0.0.1:8080/hook")


@pytest.mark.parametrize(
    "address", ["::ffff:10.0.0.1", "100.127.255.255", "198.18.0.1", "192.0.0.8", "fd12::1"]
)
def test_address_forms_are_judged_by_what_they_reach(address):
    assert address_forbidden(ipaddress.ip_address(address))


def test_public_address_is_allowed():
    assert not address_forbidden(ipaddress.ip_address("8.8.8.8"))
    assert not address_forbidden(ipaddress.ip_address("2001:4860:4860::8888"))


@pytest.mark.django_db
def test_registration_api_refuses_private_destination(api, private_off):
    body = {"callback_type": "person_added", "destination": {"url": "http://169.254.169.254/"}}
    response = api.post("/companies/ACME/config/callbacks", body)
    assert response.status_code == 400
    assert "private" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_connect_time_check_refuses_a_name_that_now_resolves_privately(
    registration, receiver, settings
):
    # Registered while allowed (think: DNS answered a public address then); the name
    # now resolves to loopback, and the socket is refused before anything is sent.
    registration.url = receiver.url.replace("127.0.0.1", "localhost")
    registration.save()
    person_added_emit(PersonFactory(company=registration.company))
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = False
    deliveries_deliver_batch(enqueue_more=False)
    delivery = CallbackDelivery.objects.get()
    assert receiver.received == []
    assert delivery.state == CallbackDelivery.State.FAILED
    assert "private address" in delivery.last_error


@pytest.mark.parametrize(
    "host",
    ["127%2E0%2E0%2E1", "%31%32%37.0.0.1", "LOCALHOST.", "169%2e254%2e169%2e254", "%6c%6fcalhost"],
)
def test_percent_encoded_and_odd_spellings_are_normalised_then_refused(private_off, host):
    with pytest.raises(InvalidDestination, match="resolves to"):
        destination_check(f"http://{host}:8080/hook")


@pytest.mark.parametrize("host", ["no-such-host.invalid", "a%20b.example", "exa%00mple.com"])
def test_unresolvable_or_invalid_hosts_are_refused(host, settings):
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = True  # refused even where private is allowed
    with pytest.raises(InvalidDestination):
        destination_check(f"http://{host}/hook")


def test_the_stored_url_names_the_host_as_checked(settings):
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = True
    assert destination_check("http://127%2E0%2E0%2E1:8080/hook?a=%20") == (
        "http://127.0.0.1:8080/hook?a=%20"
    )
