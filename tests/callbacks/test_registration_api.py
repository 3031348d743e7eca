"""The configuration API: /companies/:key/config/callbacks (SPEC section 6)."""

from __future__ import annotations

import uuid

import pytest

from callbacks.models import CallbackDelivery, CallbackRegistration
from tests.conftest import error_codes
from tests.factories import CallbackRegistrationFactory, SubscriptionListFactory

BASE = "/companies/ACME/config/callbacks"


def registration_body(**overrides):
    body = {
        "callback_type": "person_added",
        "destination": {"url": "http://127.0.0.1:9999/hook", "method": "POST"},
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
def test_post_registers_and_returns_the_signing_secret_once(api):
    response = api.post(BASE, registration_body(basic_auth={"username": "u", "password": "p"}))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["signing_secret"].startswith("whsec_")
    assert body["callback_type"] == body["event_type"] == "person_added"
    assert body["destination"] == {
        "url": "http://127.0.0.1:9999/hook",
        "method": "POST",
        "content_type": "application/json",
    }
    assert body["basic_auth"] == {"configured": True}
    assert "p" not in str(body["basic_auth"]) and "password" not in response.content.decode()
    again = api.get(f"{BASE}/{body['callback_id']}").json()
    assert "signing_secret" not in again
    assert again["url"] == f"{BASE}/{body['callback_id']}"


@pytest.mark.django_db
def test_credentials_and_header_values_are_never_echoed(api):
    body = registration_body(
        basic_auth={"username": "crm-user", "password": "hunter2"},
        headers={"X-Api-Key": "topsecret"},
    )
    created = api.post(BASE, body)
    listed = api.get(BASE)
    for response in (created, listed):
        text = response.content.decode()
        assert "hunter2" not in text and "topsecret" not in text and "crm-user" not in text
    assert listed.json()[0]["header_names"] == ["X-Api-Key"]


@pytest.mark.django_db
def test_legacy_event_type_and_person_add_alias_are_accepted(api):
    body = registration_body()
    del body["callback_type"]
    body["event_type"] = "person_add"
    response = api.post(BASE, body)
    assert response.status_code == 201
    assert response.json()["callback_type"] == "person_added"


@pytest.mark.django_db
def test_api_version_is_captured_at_registration(api_v2):
    response = api_v2.post(BASE, registration_body())
    assert response.json()["api_version"] == 2


@pytest.mark.django_db
def test_second_open_registration_of_a_type_answers_409(api):
    assert api.post(BASE, registration_body()).status_code == 201
    response = api.post(BASE, registration_body(event_type="person_add"))
    assert response.status_code == 409
    assert error_codes(response) == [304]


@pytest.mark.django_db
def test_delete_ends_the_registration_and_frees_the_type(api):
    callback_id = api.post(BASE, registration_body()).json()["callback_id"]
    assert api.delete(f"{BASE}/{callback_id}").status_code == 204
    ended = api.get(f"{BASE}/{callback_id}").json()
    assert ended["end_date"] is not None and ended["status"]["state"] == "ended"
    assert api.post(BASE, registration_body()).status_code == 201
    assert len(api.get(BASE).json()) == 2
    assert len(api.get(f"{BASE}?active_only=true").json()) == 1


@pytest.mark.django_db
def test_ended_registration_cannot_be_changed(api):
    callback_id = api.post(BASE, registration_body()).json()["callback_id"]
    api.delete(f"{BASE}/{callback_id}")
    response = api.put(f"{BASE}/{callback_id}", {"notification_emails": ["a@example.com"]})
    assert response.status_code == 403


@pytest.mark.django_db
def test_put_changes_only_the_fields_sent(api):
    created = api.post(BASE, registration_body(notification_emails=["a@example.com"])).json()
    response = api.put(
        f"{BASE}/{created['callback_id']}",
        {
            "destination": {"url": "https://localhost:8443/new"},
            "retry_scheme": {"intervals": [1, 2]},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["destination"]["url"] == "https://localhost:8443/new"
    assert body["destination"]["method"] == "POST"
    assert body["retry_scheme"] == {"intervals": [1, 2]}
    assert body["notification_emails"] == ["a@example.com"]


@pytest.mark.django_db
def test_put_to_a_taken_type_answers_409(api):
    api.post(BASE, registration_body())
    other = api.post(BASE, registration_body(callback_type="person_updated")).json()
    response = api.put(f"{BASE}/{other['callback_id']}", {"callback_type": "person_added"})
    assert response.status_code == 409


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"callback_type": "nope"},
        {"callback_type": None},
        {"destination": {"url": "ftp://example.com/x"}},
        {"destination": {"url": "http://"}},
        {"destination": {"url": "http://user:pw@example.com/x"}},
        {"destination": {"url": "https://example.com/" + "a" * 1100}},
        {"destination": {"url": "https://example.com/x", "method": "GET"}},
        {"destination": {"url": "https://example.com/x", "content_type": "text/plain"}},
        {"destination": None},
        {"retry_scheme": {"intervals": [0]}},
        {"retry_scheme": {"intervals": ["soon"]}},
        {"notification_emails": ["not-an-email"]},
        {"headers": {"X-Event-Id": "forged"}},
        {"headers": {"bad header": "x"}},
        {"basic_auth": {"username": "a:b", "password": "x"}},
        {"scope": {"list_id": "1"}},  # person_added takes no scope
        {"start_date": "2030-01-02T00:00:00Z", "end_date": "2030-01-01T00:00:00Z"},
        {"start_date": "yesterday"},
    ],
)
def test_invalid_registration_answers_400_with_the_errors_body(api, overrides):
    body = registration_body(**overrides)
    if overrides.get("callback_type", "") is None:
        del body["callback_type"]
    response = api.post(BASE, body)
    assert response.status_code == 400, response.content
    assert error_codes(response)
    assert CallbackRegistration.objects.count() == 0


@pytest.mark.django_db
def test_several_problems_are_listed_together(api):
    body = registration_body(callback_type="nope", destination={"url": "ftp://x"})
    response = api.post(BASE, body)
    assert response.status_code == 400
    assert len(error_codes(response)) >= 2


@pytest.mark.django_db
def test_scope_by_list_under_the_type_name(api, company):
    lst = SubscriptionListFactory(company=company)
    body = registration_body(callback_type="subscription_added")
    body["subscription_added"] = {"list_id": str(lst.pk)}
    response = api.post(BASE, body)
    assert response.status_code == 201, response.content
    assert response.json()["subscription_added"] == {"list_id": str(lst.pk)}


@pytest.mark.django_db
def test_scope_with_another_company_list_answers_400(api):
    lst = SubscriptionListFactory()  # another company's list
    response = api.post(
        BASE, registration_body(callback_type="subscription_added", scope={"list_id": lst.pk})
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("callback_id", ["88143f45-6b0b-4abc-a0d8-dec0c3c65b1a", "not-a-uuid"])
def test_unknown_callback_id_answers_404(api, callback_id):
    for method in ("get", "put", "delete"):
        response = getattr(api, method)(f"{BASE}/{callback_id}")
        assert response.status_code == 404
        assert error_codes(response) == [120]


@pytest.mark.django_db
def test_another_company_registration_answers_404(api):
    other = CallbackRegistrationFactory()
    assert api.get(f"{BASE}/{other.callback_id}").status_code == 404
    assert api.delete(f"{BASE}/{other.callback_id}").status_code == 404
    assert api.get(BASE).json() == []


@pytest.mark.django_db
def test_paths_answer_with_and_without_trailing_slash(api):
    callback_id = api.post(f"{BASE}/", registration_body()).json()["callback_id"]
    assert api.get(f"{BASE}/").status_code == 200
    assert api.get(f"{BASE}/{callback_id}/").status_code == 200


@pytest.mark.django_db
def test_test_event_is_queued_for_the_registration(api):
    callback_id = api.post(BASE, registration_body()).json()["callback_id"]
    response = api.post("/companies/ACME/config/callback_events/test", {"callback_id": callback_id})
    assert response.status_code == 201, response.content
    delivery = CallbackDelivery.objects.get()
    assert str(delivery.event_id) == response.json()["event_id"]
    assert delivery.event.is_test
    assert delivery.event.bodies["1"]["person"]["mobile_phone"]["mdn"] == "2995551234"
    by_type = api.post(
        "/companies/ACME/config/callback_events/test", {"callback_type": "person_add"}
    )
    assert by_type.status_code == 201


@pytest.mark.django_db
def test_test_event_rules(api):
    url = "/companies/ACME/config/callback_events/test"
    assert api.post(url, {}).status_code == 400
    assert api.post(url, {"callback_type": "person_added"}).status_code == 404
    assert api.post(url, {"callback_id": str(uuid.uuid4())}).status_code == 404
    callback_id = api.post(BASE, registration_body()).json()["callback_id"]
    api.delete(f"{BASE}/{callback_id}")
    assert api.post(url, {"callback_id": callback_id}).status_code == 403


@pytest.mark.django_db
def test_unauthenticated_calls_are_refused(client):
    assert client.get(BASE).status_code == 401


TEST_EVENTS = "/companies/ACME/config/callback_events/test"

# The top-level keys of each type's real body (the emitters' payloads; seeds/000, SPEC 6, 10, 11)
REAL_BODY_KEYS = {
    "person_added": {"person"},
    "person_updated": {"person"},
    "subscription_added": {"subscription"},
    "subscription_removed": {"subscription"},
    "subscription_list_added": {"subscription_list"},
    "subscription_list_updated": {"subscription_list"},
    "ack_participant_added": {"participant"},
    "ack_participant_changed": {"participant"},
    "wallet_item_install": {"wallet_instance", "wallet_item", "wallet_campaign"},
    "wallet_item_remove": {"wallet_instance", "wallet_item", "wallet_campaign"},
    "incentive_issued": {"issuance"},
    "incentive_redeemed": {"redemption"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("callback_type", sorted(REAL_BODY_KEYS))
def test_test_event_answers_201_and_carries_a_body_of_its_type(api, callback_type):
    callback_id = api.post(BASE, registration_body(callback_type=callback_type)).json()[
        "callback_id"
    ]
    response = api.post(TEST_EVENTS, {"callback_type": callback_type})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["message"] == f"Test {callback_type} callback queued"
    assert answer["callback_id"] == callback_id
    body = CallbackDelivery.objects.get(event_id=answer["event_id"]).event.bodies["1"]
    assert set(body) == REAL_BODY_KEYS[callback_type]
    assert "test" not in body


@pytest.mark.django_db
def test_a_scoped_test_body_is_accepted_and_names_the_objects_of_the_sample(api):
    api.post(BASE, registration_body(callback_type="ack_participant_added"))
    response = api.post(
        TEST_EVENTS,
        {
            "callback_type": "ack_participant_added",
            "acquisition_campaign_changed": {"campaign_id": 42},
        },
    )
    assert response.status_code == 201, response.content
    body = CallbackDelivery.objects.get().event.bodies["1"]
    assert body["participant"]["acquisition_campaign"]["id"] == "42"
    assert body["participant"]["status"] == "PENDING"


@pytest.mark.django_db
def test_test_body_objects_fill_subscription_and_person_samples(api):
    api.post(BASE, registration_body(callback_type="subscription_removed"))
    api.post(
        TEST_EVENTS,
        {
            "callback_type": "subscription_removed",
            "subscription": {"person": {"id": "7"}, "subscription_list": {"id": "9"}},
        },
    )
    body = CallbackDelivery.objects.get().event.bodies["1"]["subscription"]
    assert (body["person"]["id"], body["subscription_list"]["id"]) == ("7", "9")
    assert list(body)[3:5] == ["opt_out_date", "opt_out_reason"]


@pytest.mark.django_db
def test_a_badly_shaped_test_body_still_gets_the_default_sample(api):
    api.post(BASE, registration_body())
    response = api.post(TEST_EVENTS, {"callback_type": "person_added", "person": "nobody"})
    assert response.status_code == 201
    assert CallbackDelivery.objects.get().event.bodies["1"]["person"]["person_id"] == 0
