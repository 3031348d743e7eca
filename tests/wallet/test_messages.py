"""Wallet messages (SPEC 10): filters, personalization with the broadcasts' renderer,
batches on the messaging queue, recipient_count and status."""

from __future__ import annotations

import pytest
from celery import current_app

from tests.conftest import errors_of
from wallet import design
from wallet.models import WalletItem, WalletMessage, WalletPush
from wallet.services.installs import device_register
from wallet.services.items import wallet_item_open
from wallet.services.messages import SEND_BATCH_TASK, wallet_message_send_next_batch

pytestmark = pytest.mark.django_db


def path(campaign) -> str:
    return f"/companies/ACME/campaigns/wallet/{campaign.wallet_id}/messages"


@pytest.fixture
def people(campaign):
    rows = [
        ("a", {"first_name": "Ann", "loyalty_balance": "50", "group_code": "vip",
               "expiration_date": "2031-03-01"}),
        ("b", {"first_name": "Bob", "loyalty_balance": "150", "group_code": "std",
               "expiration_date": "2031-06-01"}),
        ("c", {"first_name": "Cy", "loyalty_balance": "250", "group_code": "vip-plus"}),
    ]  # fmt: skip
    for uuid, tokens in rows:
        wallet_item_open(campaign=campaign, wallet_item_id=uuid, tokens=tokens)
    WalletItem.objects.filter(uuid="c").update(provider="google_wallet")
    return campaign


def post(api, campaign, filters=None, template="Hi {{first_name}}", **content):
    body = {"message": {"header": "News", "template": template, **content}}
    if filters is not None:
        body["filters"] = filters
    return api.post(path(campaign), body)


def targeted(api, campaign, filters) -> set[str]:
    response = post(api, campaign, filters)
    assert response.status_code == 200, response.content
    message = WalletMessage.objects.get(wallet_message_id=response.json()["wallet_message_id"])
    while wallet_message_send_next_batch(message_id=message.pk):
        pass
    return set(
        WalletItem.objects.filter(notification__startswith="Hi").values_list("uuid", flat=True)
    )


def test_post_answers_the_queued_message_with_its_recipient_count(api, people):
    response = post(api, people, url="https://example.com/x")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["recipient_count"] == 3
    assert body["message"] == {"header": "News", "template": "Hi {{first_name}}",
                               "url": "https://example.com/x"}  # fmt: skip
    assert body["campaign_ref"]["id"] == people.wallet_id
    assert body["url"] == f"{people.url}/messages/{body['wallet_message_id']}"
    assert body["filters"] == []


def test_sending_personalizes_each_item_and_pushes(api, people, django_capture_on_commit_callbacks):
    device_register(
        item=WalletItem.objects.get(uuid="a"),
        device_library_identifier="phone",
        push_token="tok",
        provider="apple",
    )
    message_id = post(api, people).json()["wallet_message_id"]
    message = WalletMessage.objects.get(wallet_message_id=message_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert wallet_message_send_next_batch(message_id=message.pk, batch_size=2) is True
    assert WalletMessage.objects.get(pk=message.pk).status == "sending"
    with django_capture_on_commit_callbacks(execute=True):
        assert wallet_message_send_next_batch(message_id=message.pk, batch_size=2) is False
    notes = dict(WalletItem.objects.values_list("uuid", "notification"))
    assert notes == {"a": "Hi Ann", "b": "Hi Bob", "c": "Hi Cy"}
    item = WalletItem.objects.get(uuid="b")
    assert item.google_messages == [{"header": "News", "body": "Hi Bob"}]
    sent = api.get(f"{path(people)}/{message_id}").json()
    assert (sent["status"], sent["sent_count"], sent["recipient_count"]) == ("sent", 3, 3)
    assert WalletPush.objects.get().push_token == "tok"
    # a finished message is never sent again
    assert wallet_message_send_next_batch(message_id=message.pk) is False


def test_a_batch_is_claimed_once(api, people):
    message = WalletMessage.objects.get(
        wallet_message_id=post(api, people).json()["wallet_message_id"]
    )
    stale = WalletMessage.objects.get(pk=message.pk)
    wallet_message_send_next_batch(message_id=message.pk, batch_size=2)
    WalletItem.objects.update(notification="")
    # a duplicate task holding the old cursor claims nothing
    WalletMessage.objects.filter(pk=message.pk).update(cursor=stale.cursor + 10**9)
    assert wallet_message_send_next_batch(message_id=message.pk, batch_size=2) is False
    assert not WalletItem.objects.exclude(notification="").exists()


def test_items_created_after_the_message_are_not_its_recipients(api, people):
    message_id = post(api, people).json()["wallet_message_id"]
    wallet_item_open(campaign=people, wallet_item_id="late", tokens={"first_name": "Late"})
    message = WalletMessage.objects.get(wallet_message_id=message_id)
    while wallet_message_send_next_batch(message_id=message.pk):
        pass
    assert WalletItem.objects.get(uuid="late").notification == ""


@pytest.mark.parametrize(
    "filters, expected",
    [
        ([], {"a", "b", "c"}),
        ([{"name": "group_code", "selector": "=", "value": "vip"}], {"a"}),
        ([{"name": "group_code", "selector": "starts_with", "value": "vip"}], {"a", "c"}),
        ([{"name": "group_code", "selector": "any", "value": ["std", "vip-plus"]}], {"b", "c"}),
        ([{"name": "provider", "selector": "=", "value": "google_wallet"}], {"c"}),
        ([{"name": "first_class_field", "field_name": "first_name", "selector": "any",
           "value": ["Ann", "Cy"]}], {"a", "c"}),
        ([{"name": "first_class_field", "field_name": "first_name", "selector": "starts_with",
           "value": "B"}], {"b"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": "=",
           "value": "150"}], {"b"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": "<",
           "value": "150"}], {"a"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": "<=",
           "value": "150"}], {"a", "b"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": ">",
           "value": "150"}], {"c"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": ">=",
           "value": "150"}], {"b", "c"}),
        ([{"name": "first_class_field", "field_name": "loyalty_balance", "selector": "between",
           "value": "100,300"}], {"b", "c"}),
        ([{"name": "expiration_date", "selector": "before", "value": "2031-04-01"}], {"a"}),
        ([{"name": "expiration_date", "selector": "after", "value": "2031-04-01"}], {"b"}),
        ([{"name": "expiration_date", "selector": "on", "value": "2031-06-01"}], {"b"}),
        ([{"name": "expiration_date", "selector": "between",
           "value": ["2031-01-01", "2031-12-31"]}], {"a", "b"}),
        ([{"name": "group_code", "selector": "starts_with", "value": "vip"},
          {"name": "first_class_field", "field_name": "loyalty_balance", "selector": ">",
           "value": "100"}], {"c"}),
    ],
)  # fmt: skip
def test_filters_select_the_items(api, people, filters, expected):
    assert targeted(api, people, filters) == expected


def test_campaign_expiration_counts_for_items_without_their_own(api, people):
    people.expiration_date = "2031-05-05T00:00:00Z"
    people.save()
    filters = [{"name": "expiration_date", "selector": "on", "value": "2031-05-05"}]
    assert targeted(api, people, filters) == {"c"}


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"filters": [{"name": "colour", "selector": "=", "value": "red"}]}, "unknown filter"),
        ({"filters": [{"name": "group_code", "selector": "~", "value": "x"}]}, "selectors"),
        ({"filters": [{"name": "group_code", "selector": "between", "value": "a"}]}, "selectors"),
        ({"filters": [{"name": "first_class_field", "field_name": "loyalty_balance",
                       "selector": "between", "value": "5"}]}, "two values"),
        ({"filters": [{"name": "first_class_field", "field_name": "loyalty_balance",
                       "selector": "between", "value": ["5"]}]}, "two values"),
        ({"filters": [{"name": "first_class_field", "field_name": "loyalty_balance",
                       "selector": ">", "value": "lots"}]}, "not a number"),
        ({"filters": [{"name": "expiration_date", "selector": "=", "value": "2031-01-01"}]},
         "selector"),
        ({"filters": [{"name": "expiration_date", "selector": "on", "value": "soon"}]},
         "not a date"),
        ({"filters": [{"name": "first_class_field", "field_name": "bad name", "selector": "=",
                       "value": "x"}]}, "field_name"),
        ({"filters": [{"name": "group_code", "selector": "any", "value": "vip"}]}, "list"),
        ({"filters": [{"name": "provider", "selector": "=", "value": "nokia"}]}, "provider"),
        ({"filters": {"name": "group_code"}}, "filters must be a list"),
        ({"message": {"template": ""}}, "template must not be empty"),
        ({"message": {"template": "x" * 501}}, "longer than"),
        ({"message": "hello"}, "message must be an object"),
    ],
)  # fmt: skip
def test_bad_messages_are_400_and_nothing_is_queued(api, people, body, fragment):
    full = {"message": {"header": "h", "template": "t"}, **body}
    response = api.post(path(people), full)
    assert response.status_code == 400, response.content
    assert any(fragment in e["message"] for e in errors_of(response)), errors_of(response)
    assert not WalletMessage.objects.exists()


def test_list_is_latest_first_and_get_one(api, people):
    first = post(api, people, template="one").json()["wallet_message_id"]
    second = post(api, people, template="two").json()["wallet_message_id"]
    listed = api.get(path(people))
    assert [m["wallet_message_id"] for m in listed.json()] == [second, first]
    assert api.get(f"{path(people)}/{first}/").json()["message"]["template"] == "one"


def test_unknown_message_or_campaign_is_404(api, people, other_company_campaign):
    assert api.get(f"{path(people)}/not-a-uuid").status_code == 404
    assert api.get(f"{path(people)}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert post(api, other_company_campaign).status_code == 404


def test_send_task_is_routed_to_the_messaging_queue():
    route = current_app.amqp.router.route({}, SEND_BATCH_TASK)
    assert route["queue"].name == "messaging"


def test_personalization_uses_the_broadcasts_renderer(monkeypatch, api, people):
    calls = []
    real = design.placeholders_fill
    monkeypatch.setattr(design, "placeholders_fill", lambda t, f: calls.append(t) or real(t, f))
    targeted(api, people, [{"name": "group_code", "selector": "=", "value": "vip"}])
    assert "Hi {{first_name}}" in calls
